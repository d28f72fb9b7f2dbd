#pragma once
// The one place that turns an exception into output and an exit code, so that
// every executable reports errors in the same shape.

#include <functional>
#include <string_view>

namespace gm {

class Error;

// Runs body and maps what it throws onto "<program>: error: ..." and an exit
// code (gm::Error's own, 1 for anything else). Never lets an exception escape main.
int run_reporting_errors(std::string_view program, const std::function<int()>& body);

// Prints an error as run_reporting_errors does ("<program>: error: ...", then its hint), for a
// command that ends by a signal right after and would never reach that catch.
void report_error(std::string_view program, const Error& error);
// Prints a warning in the suite's format; warnings never change the exit code.
void warn(std::string_view program, std::string_view message);

}  // namespace gm
