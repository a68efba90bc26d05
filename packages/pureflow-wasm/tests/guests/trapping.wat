;; Traps with `unreachable` on every call.
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (func (export "invoke") (param i32 i32) (result i32)
    unreachable)
)
