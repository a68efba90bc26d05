;; A rules-world guest (pureflow:rules@0.1.0) for host tests: it evaluates nothing. Its
;; decision is the rule set's default action, no matched rule, the context's tags returned
;; as `tags-applied` (pointing at the host's own lowered list), and no trace. So a test can
;; see exactly what the host lowered: the default action and every tag value, case by case.
;;
;; Canonical ABI layout (wasm32): the (rule-set, eval-context) parameters are lowered into
;; memory at the single i32 argument: rule-set at +0 (64 bytes: default-action at +24, 32
;; bytes), eval-context at +64 (tags list pointer/length at +76/+80). The result
;; result<rule-decision, rule-error> is 72 bytes: discriminant at +0, the decision at +8
;; (action +8..+40, matched-rule option at +40, tags-applied at +52, trace at +60).
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (func (export "evaluate") (param $p i32) (result i32)
    (local $r i32)
    (local.set $r (i32.const 64))
    (i32.store8 (local.get $r) (i32.const 0))
    (memory.copy (i32.add (local.get $r) (i32.const 8)) (i32.add (local.get $p) (i32.const 24))
      (i32.const 32))
    (i32.store8 offset=40 (local.get $r) (i32.const 0))
    (i32.store offset=52 (local.get $r) (i32.load offset=76 (local.get $p)))
    (i32.store offset=56 (local.get $r) (i32.load offset=80 (local.get $p)))
    (i32.store offset=60 (local.get $r) (i32.const 0))
    (i32.store offset=64 (local.get $r) (i32.const 0))
    (local.get $r))
)
