#pragma once
// The one value verdict inside vmpower (docs/architecture.md "Errors"):
// a check or an operation on outside input either accepts or refuses with
// a reason a person can read. `Checked<T>` is the same for a check that
// also produces a value. Edges throw instead (start-up, adapters).

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vmpower {

class [[nodiscard]] Verdict {
  public:
    static Verdict accepted() { return Verdict{}; }
    static Verdict refused(std::string reason) { return Verdict{std::move(reason)}; }

    bool ok() const { return !reason_.has_value(); }
    explicit operator bool() const { return ok(); }
    // Why it was refused; empty when accepted.
    const std::string& reason() const {
        static const std::string none;
        return reason_ ? *reason_ : none;
    }

  private:
    Verdict() = default;
    explicit Verdict(std::string reason) : reason_(std::move(reason)) {}
    std::optional<std::string> reason_;
};

// A value, or the reason there is none.
template <typename T>
class [[nodiscard]] Checked {
  public:
    Checked(T value) : v_(std::in_place_index<0>, std::move(value)) {}          // NOLINT: implicit
    Checked(Verdict refused) : v_(std::in_place_index<1>, refused.reason()) {}  // NOLINT
    static Checked refused(std::string reason) {
        return Checked(Verdict::refused(std::move(reason)));
    }

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const std::string& reason() const {
        static const std::string none;
        return ok() ? none : std::get<1>(v_);
    }
    Verdict verdict() const { return ok() ? Verdict::accepted() : Verdict::refused(reason()); }

  private:
    std::variant<T, std::string> v_;
};

}  // namespace vmpower
