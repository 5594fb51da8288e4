;; G = D D' (lower triangle, 4 x 4 tiles) for demeaned returns D, p rows of n float64 each,
;; with the observations two at a time in the f64x2 lanes of a v128: each tile keeps 16
;; accumulators (one per pair of rows), loads 8 vectors per two observations and does 16
;; vector multiply-adds; the two lanes are added at the end of each chunk of observations.
;; The sums are reassociated (even and odd observations apart), so G differs from the scalar
;; JavaScript by a few ulps.
;;
;; Assembled by scripts/buildWasm.mjs (wabt); loaded by crossProductsKernel.ts, which grows
;; the memory and lays it out: D at byte 0 (p * n float64), G right after (p * p float64).
;;
;; tiles(p, n, g, t0, t1, first, step) adds, for every 4 x 4 tile (i, j), j <= i, i + 3 < p, of
;; the tile rows first, first + step, first + 2 step... (i = 4 x tile row), the products of
;; observations t0..t1-1 (t1 - t0 even) into G[i..i+3][j..j+3] (row-major, p wide, at byte g).
;; Two threads each take every other tile row (first 0 and 1, step 2).
(module
  (memory (export "memory") 1)
  (func (export "tiles") (param $p i32) (param $n i32) (param $g i32) (param $t0 i32) (param $t1 i32) (param $first i32) (param $step i32)
    (local $i i32) (local $j i32) (local $t i32) (local $rowBytes i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $s20 v128) (local $s21 v128) (local $s22 v128) (local $s23 v128)
    (local $s30 v128) (local $s31 v128) (local $s32 v128) (local $s33 v128)
    (local $out i32) (local $full i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $full (i32.sub (local.get $p) (i32.rem_u (local.get $p) (i32.const 4))))
    (local.set $i (i32.shl (local.get $first) (i32.const 2)))
    (block $doneI
      (loop $rowsI
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $a0 (i32.mul (local.get $i) (local.get $rowBytes)))
        (local.set $a1 (i32.add (local.get $a0) (local.get $rowBytes)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $rowBytes)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $rowBytes)))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $rowsJ
            (br_if $doneJ (i32.gt_u (local.get $j) (local.get $i)))
            (local.set $b0 (i32.mul (local.get $j) (local.get $rowBytes)))
            (local.set $b1 (i32.add (local.get $b0) (local.get $rowBytes)))
            (local.set $b2 (i32.add (local.get $b1) (local.get $rowBytes)))
            (local.set $b3 (i32.add (local.get $b2) (local.get $rowBytes)))
            (local.set $s00 (v128.const f64x2 0 0)) (local.set $s01 (v128.const f64x2 0 0)) (local.set $s02 (v128.const f64x2 0 0)) (local.set $s03 (v128.const f64x2 0 0))
            (local.set $s10 (v128.const f64x2 0 0)) (local.set $s11 (v128.const f64x2 0 0)) (local.set $s12 (v128.const f64x2 0 0)) (local.set $s13 (v128.const f64x2 0 0))
            (local.set $s20 (v128.const f64x2 0 0)) (local.set $s21 (v128.const f64x2 0 0)) (local.set $s22 (v128.const f64x2 0 0)) (local.set $s23 (v128.const f64x2 0 0))
            (local.set $s30 (v128.const f64x2 0 0)) (local.set $s31 (v128.const f64x2 0 0)) (local.set $s32 (v128.const f64x2 0 0)) (local.set $s33 (v128.const f64x2 0 0))
            (local.set $t (i32.shl (local.get $t0) (i32.const 3)))
            (block $doneT
              (loop $obs
                (br_if $doneT (i32.ge_u (local.get $t) (i32.shl (local.get $t1) (i32.const 3))))
                (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $t))))
                (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $t))))
                (local.set $x2 (v128.load (i32.add (local.get $a2) (local.get $t))))
                (local.set $x3 (v128.load (i32.add (local.get $a3) (local.get $t))))
                (local.set $y0 (v128.load (i32.add (local.get $b0) (local.get $t))))
                (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $t))))
                (local.set $y2 (v128.load (i32.add (local.get $b2) (local.get $t))))
                (local.set $y3 (v128.load (i32.add (local.get $b3) (local.get $t))))
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
                (local.set $t (i32.add (local.get $t) (i32.const 16)))
                (br $obs)))
            ;; G[i + r][j + c] += lane 0 + lane 1 of s_rc
            (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $p)) (local.get $j)) (i32.const 3))))
            (call $add4 (local.get $out) (local.get $s00) (local.get $s01) (local.get $s02) (local.get $s03))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3))))
            (call $add4 (local.get $out) (local.get $s10) (local.get $s11) (local.get $s12) (local.get $s13))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3))))
            (call $add4 (local.get $out) (local.get $s20) (local.get $s21) (local.get $s22) (local.get $s23))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3))))
            (call $add4 (local.get $out) (local.get $s30) (local.get $s31) (local.get $s32) (local.get $s33))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $rowsJ)))
        (local.set $i (i32.add (local.get $i) (i32.shl (local.get $step) (i32.const 2))))
        (br $rowsI))))

  ;; out[0..3] += the lane sums of four accumulators
  (func $add4 (param $out i32) (param $a v128) (param $b v128) (param $c v128) (param $d v128)
    (f64.store offset=0 (local.get $out) (f64.add (f64.load offset=0 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))))
    (f64.store offset=8 (local.get $out) (f64.add (f64.load offset=8 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b)))))
    (f64.store offset=16 (local.get $out) (f64.add (f64.load offset=16 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $c)) (f64x2.extract_lane 1 (local.get $c)))))
    (f64.store offset=24 (local.get $out) (f64.add (f64.load offset=24 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d)))))))
