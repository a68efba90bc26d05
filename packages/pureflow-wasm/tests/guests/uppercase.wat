;; The uppercase guest of the original (spec 4 §5.1): every packet of every input port, in
;; order, goes to port `out` with its metadata unchanged and its bytes ASCII-uppercased. A
;; control payload fails the whole call with
;; err(unsupported-payload("uppercase guest accepts only bytes payloads")).
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (data (i32.const 16) "out")
  (data (i32.const 32) "uppercase guest accepts only bytes payloads")
  ;; result area at 128 (16 bytes), the single output port-batch record at 144 (16 bytes)
  (func (export "invoke") (param $ptr i32) (param $n i32) (result i32)
    (local $i i32) (local $total i32) (local $out i32) (local $k i32) (local $cnt i32)
    (local $p i32) (local $b i32) (local $end i32) (local $c i32)
    ;; count the packets of every port batch (port-batch = 16 bytes, packets.len at 12)
    (block $counted (loop $count
      (br_if $counted (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $total (i32.add (local.get $total)
        (i32.load offset=12 (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 16))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $count)))
    ;; one array of packets (76 bytes each), in input order
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
    ;; uppercase each bytes payload in place (payload tag at 64, list ptr at 68, len at 72)
    (local.set $i (i32.const 0))
    (block $done (loop $packet
      (br_if $done (i32.ge_u (local.get $i) (local.get $total)))
      (local.set $p (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 76))))
      (if (i32.load8_u offset=64 (local.get $p))
        (then
          ;; err(unsupported-payload(msg)): result tag 1, batch-error tag 1, string
          (i32.store (i32.const 128) (i32.const 1))
          (i32.store (i32.const 132) (i32.const 1))
          (i32.store (i32.const 136) (i32.const 32))
          (i32.store (i32.const 140) (i32.const 43))
          (return (i32.const 128))))
      (local.set $b (i32.load offset=68 (local.get $p)))
      (local.set $end (i32.add (local.get $b) (i32.load offset=72 (local.get $p))))
      (block $upper (loop $byte
        (br_if $upper (i32.ge_u (local.get $b) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $b)))
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
          (then (i32.store8 (local.get $b) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $byte)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $packet)))
    ;; ok([{port-id: "out", packets: out[0..total]}])
    (i32.store (i32.const 144) (i32.const 16))
    (i32.store (i32.const 148) (i32.const 3))
    (i32.store (i32.const 152) (local.get $out))
    (i32.store (i32.const 156) (local.get $total))
    (i32.store (i32.const 128) (i32.const 0))
    (i32.store (i32.const 132) (i32.const 144))
    (i32.store (i32.const 136) (i32.const 1))
    (i32.const 128))
)
