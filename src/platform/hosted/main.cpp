// The hosted image's entry point: a Linux process's main().
#include <sarab/platform/hosted.hpp>
#include <sarab/runtime/app.hpp>

int main(int argc, char** argv)
{
    sarab::platform::hosted::init(argc, argv);
    sarab::platform::exit(sarab::start_image());
}
