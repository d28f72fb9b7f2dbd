// The Catch2 runner for all unit tests; the tests themselves live beside it, one file per layer.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
