  ;; Canonical ABI allocator: a bump allocator. Grows memory as needed; traps with
  ;; `unreachable` when the host's memory limit refuses to grow it further (as a Rust
  ;; guest's alloc error handler does). `post-invoke` (the canonical ABI post-return
  ;; function, called once the host has read a result) frees everything at once, so an
  ;; instance the host reuses for the next call starts from an empty heap.
  (global $bump (mut i32) (i32.const 1024)) (global $heap i32 (i32.const 1024))
  (func $handle_alloc_error unreachable)
  (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $bump
    local.get 2 i32.add i32.const 1 i32.sub
    i32.const 0 local.get 2 i32.sub i32.and
    local.set $p
    local.get $p local.get 3 i32.add global.set $bump
    (block $done (loop $grow
      global.get $bump
      memory.size i32.const 65536 i32.mul
      i32.le_u br_if $done
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
        (then (call $handle_alloc_error)))
      br $grow))
    local.get $p)
  (func (export "post-invoke") (param i32)
    global.get $heap global.set $bump)
