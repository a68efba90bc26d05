;; The batch-world component around a guest's core module (assembled by wat_guests.py).
;;
;; The core module `$m` (spliced in at the marker below) must export `mem` (its memory),
;; `realloc` (the canonical ABI allocator), `invoke` (param i32 i32) (result i32): the
;; lowered list<port-batch> (pointer, length) in, a pointer to the 16-byte result area out,
;; and `post-invoke` (param i32): the post-return function that frees the call's memory.
;; Type section and lifting as in tests-integration/conformance/wasm/batch-world-empty.wat.
(component
;; The uppercase guest of the original (spec 4 §5.1): every packet of every input port, in
;; order, goes to port `out` with its metadata unchanged and its bytes ASCII-uppercased. A
;; control payload fails the whole call with
;; err(unsupported-payload("uppercase guest accepts only bytes payloads")).
(core module $m
  (memory (export "mem") 1)
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

  (core instance $i (instantiate $m))

  (component $inner
    (type $endpoint-def (record (field "node-id" string) (field "port-id" string)))
    (import "import-type-endpoint" (type $endpoint-i (eq $endpoint-def)))
    (type $route-def (record (field "source" (option $endpoint-i)) (field "target" $endpoint-i)))
    (import "import-type-route" (type $route-i (eq $route-def)))
    (type $execution-def (record (field "execution-id" string) (field "attempt" u32)))
    (import "import-type-execution" (type $execution-i (eq $execution-def)))
    (type $message-metadata-def (record (field "message-id" string) (field "workflow-id" string) (field "execution" $execution-i) (field "route" $route-i)))
    (import "import-type-message-metadata" (type $message-metadata-i (eq $message-metadata-def)))
    (type $payload-def (variant (case "bytes" (list u8)) (case "control" string)))
    (import "import-type-payload" (type $payload-i (eq $payload-def)))
    (type $packet-def (record (field "metadata" $message-metadata-i) (field "payload" $payload-i)))
    (import "import-type-packet" (type $packet-i (eq $packet-def)))
    (type $port-batch-def (record (field "port-id" string) (field "packets" (list $packet-i))))
    (import "import-type-port-batch" (type $port-batch-i (eq $port-batch-def)))
    (type $batch-error-def (variant (case "guest-failure" string) (case "unsupported-payload" string)))
    (import "import-type-batch-error" (type $batch-error-i (eq $batch-error-def)))
    (import "import-func-invoke" (func $f (param "inputs" (list $port-batch-i)) (result (result (list $port-batch-i) (error $batch-error-i)))))
    (export $endpoint-e "endpoint" (type $endpoint-i))
    (export $route-e "route" (type $route-i))
    (export $execution-e "execution" (type $execution-i))
    (export $message-metadata-e "message-metadata" (type $message-metadata-i))
    (export $payload-e "payload" (type $payload-i))
    (export $packet-e "packet" (type $packet-i))
    (export $port-batch-e "port-batch" (type $port-batch-i))
    (export $batch-error-e "batch-error" (type $batch-error-i))
    (export "invoke" (func $f) (func (param "inputs" (list $port-batch-e)) (result (result (list $port-batch-e) (error $batch-error-e)))))
  )
  (type $endpoint (record (field "node-id" string) (field "port-id" string)))
  (export $endpoint-x "endpoint" (type $endpoint))
  (type $route (record (field "source" (option $endpoint-x)) (field "target" $endpoint-x)))
  (export $route-x "route" (type $route))
  (type $execution (record (field "execution-id" string) (field "attempt" u32)))
  (export $execution-x "execution" (type $execution))
  (type $message-metadata (record (field "message-id" string) (field "workflow-id" string) (field "execution" $execution-x) (field "route" $route-x)))
  (export $message-metadata-x "message-metadata" (type $message-metadata))
  (type $payload (variant (case "bytes" (list u8)) (case "control" string)))
  (export $payload-x "payload" (type $payload))
  (type $packet (record (field "metadata" $message-metadata-x) (field "payload" $payload-x)))
  (export $packet-x "packet" (type $packet))
  (type $port-batch (record (field "port-id" string) (field "packets" (list $packet-x))))
  (export $port-batch-x "port-batch" (type $port-batch))
  (type $batch-error (variant (case "guest-failure" string) (case "unsupported-payload" string)))
  (export $batch-error-x "batch-error" (type $batch-error))
  (func $invoke (param "inputs" (list $port-batch-x)) (result (result (list $port-batch-x) (error $batch-error-x))) (canon lift (core func $i "invoke") (memory (core memory $i "mem")) (realloc (core func $i "realloc")) (post-return (core func $i "post-invoke"))))
  (instance $api (instantiate $inner (with "import-func-invoke" (func $invoke)) (with "import-type-endpoint" (type $endpoint-x)) (with "import-type-route" (type $route-x)) (with "import-type-execution" (type $execution-x)) (with "import-type-message-metadata" (type $message-metadata-x)) (with "import-type-payload" (type $payload-x)) (with "import-type-packet" (type $packet-x)) (with "import-type-port-batch" (type $port-batch-x)) (with "import-type-batch-error" (type $batch-error-x))))
  (export "pureflow:batch/batch@0.1.0" (instance $api))
)