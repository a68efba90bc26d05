;; Returns err(guest-failure("boom")) for any input.
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (data (i32.const 16) "boom")
  (func (export "invoke") (param i32 i32) (result i32)
    (i32.store (i32.const 128) (i32.const 1))   ;; result: err
    (i32.store (i32.const 132) (i32.const 0))   ;; batch-error: guest-failure
    (i32.store (i32.const 136) (i32.const 16))
    (i32.store (i32.const 140) (i32.const 4))
    (i32.const 128))
)
