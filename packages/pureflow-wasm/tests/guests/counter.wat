;; A guest with state: a global counter, incremented once per call. Every packet of every
;; input port goes to port `out` with its metadata unchanged and the first byte of its
;; bytes payload replaced by the counter (so a fresh instance answers 1, a reused one
;; 2, 3, ...). The first byte of a payload can also ask for trouble, after the counter
;; was incremented: `t` traps, `s` spins forever, `g` grows memory until the host's limit
;; refuses (then the alloc error handler traps), `w` busy-waits for 5,000,000 loop turns
;; and then answers normally.
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 16) "out")
  (func (export "invoke") (param $ptr i32) (param $n i32) (result i32)
    (local $i i32) (local $total i32) (local $out i32) (local $k i32) (local $cnt i32)
    (local $p i32) (local $b i32) (local $c i32) (local $spin i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (block $counted (loop $count
      (br_if $counted (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $total (i32.add (local.get $total)
        (i32.load offset=12 (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 16))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $count)))
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
      (i32.mul (local.get $total) (i32.const 76))))
    (local.set $i (i32.const 0))
    (block $copied (loop $copy
      (br_if $copied (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $p (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 16))))
      (local.set $cnt (i32.load offset=12 (local.get $p)))
      (memory.copy
        (i32.add (local.get $out) (i32.mul (local.get $k) (i32.const 76)))
        (i32.load offset=8 (local.get $p))
        (i32.mul (local.get $cnt) (i32.const 76)))
      (local.set $k (i32.add (local.get $k) (local.get $cnt)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (local.set $i (i32.const 0))
    (block $done (loop $packet
      (br_if $done (i32.ge_u (local.get $i) (local.get $total)))
      (local.set $p (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 76))))
      ;; bytes payloads with at least one byte (tag at 64, pointer at 68, length at 72)
      (if (i32.and (i32.eqz (i32.load8_u offset=64 (local.get $p)))
                   (i32.ne (i32.load offset=72 (local.get $p)) (i32.const 0)))
        (then
          (local.set $b (i32.load offset=68 (local.get $p)))
          (local.set $c (i32.load8_u (local.get $b)))
          (if (i32.eq (local.get $c) (i32.const 116)) (then unreachable))  ;; t
          (if (i32.eq (local.get $c) (i32.const 115))                       ;; s
            (then (loop $forever (br $forever))))
          (if (i32.eq (local.get $c) (i32.const 103))                       ;; g
            (then (loop $more
              (drop (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 1048576)))
              (br $more))))
          (if (i32.eq (local.get $c) (i32.const 119))                       ;; w
            (then
              (local.set $spin (i32.const 5000000))
              (block $rested (loop $wait
                (br_if $rested (i32.eqz (local.get $spin)))
                (local.set $spin (i32.sub (local.get $spin) (i32.const 1)))
                (br $wait)))))
          (i32.store8 (local.get $b) (global.get $count))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $packet)))
    (i32.store (i32.const 144) (i32.const 16))
    (i32.store (i32.const 148) (i32.const 3))
    (i32.store (i32.const 152) (local.get $out))
    (i32.store (i32.const 156) (local.get $total))
    (i32.store (i32.const 128) (i32.const 0))
    (i32.store (i32.const 132) (i32.const 144))
    (i32.store (i32.const 136) (i32.const 1))
    (i32.const 128))
)
