// What a simulated run (and the expression evaluator) calls back: `Callback<R(Args...)>`, a
// copyable function object like std::function, except that it never calls malloc in a running
// simulation. A callable of up to 48 bytes lives inside it; a bigger one in a block of
// core/block_pool.h, recycled run after run. Every request of a run passes through a chain of
// continuations (application, network, table lock, statement), each wrapping the last: with
// std::function each link was a heap allocation (libstdc++ keeps only 16-byte trivially
// copyable callables inline). docs/performance.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/assert.h"
#include "core/block_pool.h"

namespace rehearse {

template <typename Signature>
class Callback;

template <typename R, typename... Args>
class Callback<R(Args...)> {
  static constexpr std::size_t kInlineBytes = 48;
  static constexpr std::size_t kAlign = alignof(std::max_align_t);

  template <typename F>
  static constexpr bool kInline =
      sizeof(F) <= kInlineBytes && alignof(F) <= kAlign && std::is_nothrow_move_constructible_v<F>;

  // What the stored callable's type knows; `storage` holds the callable (inline) or a pointer
  // to its block (pooled).
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    void (*move)(void* from, void* to) noexcept;  // leaves `from` empty (its callable destroyed)
    void (*copy)(const void* from, void* to);
    void (*destroy)(void* storage) noexcept;
  };

  template <typename F>
  struct Inline {
    static F& get(void* storage) { return *std::launder(static_cast<F*>(storage)); }
    static R invoke(void* storage, Args&&... args) { return std::invoke(get(storage), std::forward<Args>(args)...); }
    static void move(void* from, void* to) noexcept {
      ::new (to) F(std::move(get(from)));
      get(from).~F();
    }
    static void copy(const void* from, void* to) { ::new (to) F(get(const_cast<void*>(from))); }
    static void destroy(void* storage) noexcept { get(storage).~F(); }
    static constexpr Ops ops{&invoke, &move, &copy, &destroy};
  };

  template <typename F>
  struct Pooled {
    static F*& pointer(void* storage) { return *std::launder(static_cast<F**>(storage)); }
    static R invoke(void* storage, Args&&... args) { return std::invoke(*pointer(storage), std::forward<Args>(args)...); }
    static void move(void* from, void* to) noexcept { ::new (to) F*(pointer(from)); }
    static void copy(const void* from, void* to) {
      void* block = block_pool::take(sizeof(F));
      F* made = nullptr;
      try {
        made = ::new (block) F(*pointer(const_cast<void*>(from)));
      } catch (...) {
        block_pool::give(block, sizeof(F));
        throw;
      }
      ::new (to) F*(made);
    }
    static void destroy(void* storage) noexcept {
      F* callable = pointer(storage);
      callable->~F();
      block_pool::give(callable, sizeof(F));
    }
    static constexpr Ops ops{&invoke, &move, &copy, &destroy};
  };

  template <typename F>
  static bool empty_callable(const F& f) {
    if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F>) {
      return f == nullptr;
    } else if constexpr (requires { typename F::result_type; static_cast<bool>(f); }) {
      return !static_cast<bool>(f);  // an empty std::function
    } else {
      return false;
    }
  }

 public:
  Callback() noexcept = default;
  Callback(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): as std::function

  template <typename F, typename D = std::decay_t<F>>
    requires(!std::is_same_v<D, Callback> && std::is_invocable_r_v<R, D&, Args...> && std::is_copy_constructible_v<D>)
  Callback(F&& f) {  // NOLINT(google-explicit-constructor): as std::function
    static_assert(alignof(D) <= kAlign, "over-aligned callables are not supported");
    if (empty_callable(f)) return;
    if constexpr (kInline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &Inline<D>::ops;
    } else {
      void* block = block_pool::take(sizeof(D));
      D* made = nullptr;
      try {
        made = ::new (block) D(std::forward<F>(f));
      } catch (...) {
        block_pool::give(block, sizeof(D));
        throw;
      }
      ::new (static_cast<void*>(storage_)) D*(made);
      ops_ = &Pooled<D>::ops;
    }
  }

  Callback(Callback&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->move(other.storage_, storage_);
    other.ops_ = nullptr;
  }
  Callback(const Callback& other) : ops_(nullptr) {
    if (other.ops_ != nullptr) {
      other.ops_->copy(other.storage_, storage_);
      ops_ = other.ops_;
    }
  }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      if (other.ops_ != nullptr) other.ops_->move(other.storage_, storage_);
      ops_ = std::exchange(other.ops_, nullptr);
    }
    return *this;
  }
  Callback& operator=(const Callback& other) {
    if (this != &other) *this = Callback(other);
    return *this;
  }
  Callback& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~Callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  friend bool operator==(const Callback& callback, std::nullptr_t) noexcept { return callback.ops_ == nullptr; }

  // Calls the callable (const, as std::function: a mutable lambda may change its own captures).
  R operator()(Args... args) const {
    REHEARSE_ASSERT(ops_ != nullptr);
    return ops_->invoke(const_cast<unsigned char*>(storage_), std::forward<Args>(args)...);
  }

 private:
  void reset() noexcept {
    if (ops_ != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  alignas(kAlign) unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace rehearse
