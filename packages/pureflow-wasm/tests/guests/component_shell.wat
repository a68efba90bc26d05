;; The batch-world component around a guest's core module (assembled by wat_guests.py).
;;
;; The core module `$m` (spliced in at the marker below) must export `mem` (its memory),
;; `realloc` (the canonical ABI allocator), `invoke` (param i32 i32) (result i32): the
;; lowered list<port-batch> (pointer, length) in, a pointer to the 16-byte result area out,
;; and `post-invoke` (param i32): the post-return function that frees the call's memory.
;; Type section and lifting as in tests-integration/conformance/wasm/batch-world-empty.wat.
(component
;; @core-module
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