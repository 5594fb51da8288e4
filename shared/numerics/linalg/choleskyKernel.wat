;; The inner products of a blocked Cholesky factorization (cholesky.ts, choleskyTiled): for rows
;; i..i+3 and j..j+3 of L (row-major, `stride` bytes a row), the 16 sums
;; S[r][c] = sum over k in [0, k1) of L[i + r][k] * L[j + c][k], with k two at a time in the
;; f64x2 lanes of a v128 (16 vector accumulators, 8 vector loads per two k), the two lanes
;; added at the end. The sums are reassociated (even and odd k apart), so the factor differs
;; from a one-accumulator loop's by a few ulps.
;;
;; Assembled by scripts/buildWasm.mjs (wabt); loaded by choleskyKernel.ts, which grows the
;; memory and lays it out: the 16 sums at byte 0 (S[r][c] at 8 (4 r + c)), L from byte 128.
;;
;; tile(i, j, stride, k1): i and j are byte offsets of rows i and j, k1 is even.
(module
  (memory (export "memory") 1)
  (func (export "tile") (param $a0 i32) (param $b0 i32) (param $stride i32) (param $k1 i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $k i32) (local $end i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $s20 v128) (local $s21 v128) (local $s22 v128) (local $s23 v128)
    (local $s30 v128) (local $s31 v128) (local $s32 v128) (local $s33 v128)
    (local.set $a1 (i32.add (local.get $a0) (local.get $stride)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $stride)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $stride)))
    (local.set $b1 (i32.add (local.get $b0) (local.get $stride)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $stride)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $stride)))
    (local.set $k (i32.const 0))
    (local.set $end (i32.shl (local.get $k1) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $k))))
        (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $k))))
        (local.set $x2 (v128.load (i32.add (local.get $a2) (local.get $k))))
        (local.set $x3 (v128.load (i32.add (local.get $a3) (local.get $k))))
        (local.set $y0 (v128.load (i32.add (local.get $b0) (local.get $k))))
        (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $k))))
        (local.set $y2 (v128.load (i32.add (local.get $b2) (local.get $k))))
        (local.set $y3 (v128.load (i32.add (local.get $b3) (local.get $k))))
        (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $x0) (local.get $y0))))
        (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $x0) (local.get $y1))))
        (local.set $s02 (f64x2.add (local.get $s02) (f64x2.mul (local.get $x0) (local.get $y2))))
        (local.set $s03 (f64x2.add (local.get $s03) (f64x2.mul (local.get $x0) (local.get $y3))))
        (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $x1) (local.get $y0))))
        (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $x1) (local.get $y1))))
        (local.set $s12 (f64x2.add (local.get $s12) (f64x2.mul (local.get $x1) (local.get $y2))))
        (local.set $s13 (f64x2.add (local.get $s13) (f64x2.mul (local.get $x1) (local.get $y3))))
        (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $x2) (local.get $y0))))
        (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $x2) (local.get $y1))))
        (local.set $s22 (f64x2.add (local.get $s22) (f64x2.mul (local.get $x2) (local.get $y2))))
        (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $x2) (local.get $y3))))
        (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $x3) (local.get $y0))))
        (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $x3) (local.get $y1))))
        (local.set $s32 (f64x2.add (local.get $s32) (f64x2.mul (local.get $x3) (local.get $y2))))
        (local.set $s33 (f64x2.add (local.get $s33) (f64x2.mul (local.get $x3) (local.get $y3))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $pairs)))
    (call $store4 (i32.const 0) (local.get $s00) (local.get $s01) (local.get $s02) (local.get $s03))
    (call $store4 (i32.const 32) (local.get $s10) (local.get $s11) (local.get $s12) (local.get $s13))
    (call $store4 (i32.const 64) (local.get $s20) (local.get $s21) (local.get $s22) (local.get $s23))
    (call $store4 (i32.const 96) (local.get $s30) (local.get $s31) (local.get $s32) (local.get $s33)))

  ;; out[0..3] = the lane sums of four accumulators
  (func $store4 (param $out i32) (param $a v128) (param $b v128) (param $c v128) (param $d v128)
    (f64.store offset=0 (local.get $out) (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (f64.store offset=8 (local.get $out) (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b))))
    (f64.store offset=16 (local.get $out) (f64.add (f64x2.extract_lane 0 (local.get $c)) (f64x2.extract_lane 1 (local.get $c))))
    (f64.store offset=24 (local.get $out) (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d))))))
