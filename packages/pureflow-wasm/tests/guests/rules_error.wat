;; A rules-world guest that always answers err(malformed-rule-set("bad arena")): the
;; result's discriminant 1 at +0, the rule-error at +8 (its case at +8, the string's
;; pointer and length at +12 and +16).
(core module $m
  (memory (export "mem") 1)
  ;; @include realloc
  (data (i32.const 16) "bad arena")
  (func (export "evaluate") (param $p i32) (result i32)
    (i32.store8 (i32.const 64) (i32.const 1))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 76) (i32.const 16))
    (i32.store (i32.const 80) (i32.const 9))
    (i32.const 64))
)
