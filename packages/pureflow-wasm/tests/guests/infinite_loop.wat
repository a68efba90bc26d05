;; Spins forever: only fuel, cancellation or a deadline stops it.
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (func (export "invoke") (param i32 i32) (result i32)
    (loop $spin (br $spin))
    unreachable)
)
