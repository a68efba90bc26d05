;; Allocates 1 MiB at a time and keeps it, until the allocator cannot grow memory any more
;; and calls its alloc error handler (which traps, as a Rust guest's does).
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (func (export "invoke") (param i32 i32) (result i32)
    (loop $more
      (drop (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 1048576)))
      (br $more))
    unreachable)
)
