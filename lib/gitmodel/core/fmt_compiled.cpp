// fmt's compiled part, built once here. Debian ships fmt's headers and a shared libfmt but no
// static one, and the executables link statically (GM_STATIC_LINK). Header-only fmt
// (FMT_HEADER_ONLY) compiled fmt's whole implementation again in every file that includes
// <fmt/core.h>: 5 of the 7 seconds of a typical file in the sanitizer build. Without it the
// headers declare that implementation, and this file defines it from Debian's own
// <fmt/format-inl.h>, with the instantiations fmt's library provides (those <fmt/format.h>
// declares `extern template`, and the ones its functions use).
#include <fmt/format.h>

// fmt 9 (Debian bookworm's 9.1) only: lib/CMakeLists.txt uses header-only fmt for any other,
// whose compiled part differs, and this file is then empty.
#if FMT_VERSION >= 90000 && FMT_VERSION < 100000 && !defined(FMT_HEADER_ONLY)
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;

template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> wchar_t;
template void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

}  // namespace detail
FMT_END_NAMESPACE
#endif
