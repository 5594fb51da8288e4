;; One exact log-space GBM step for a chunk of paths, four paths at a time: four independent
;; xoshiro128** 1.1 generators in the four i32 lanes of a v128 (lane l draws the words of
;; paths 4q + l), each word turned into a ziggurat normal on the fast path and added as
;; logs[p] += drift + vol * z in float64 exactly as the JavaScript reference does
;; (normalStepKernel.ts, addLaneStepsJs), so the two give bit-identical results.
;;
;; Assembled by scripts/buildWasm.mjs (wabt) into normalStepKernel.wasm; loaded by
;; normalStepKernel.ts. Memory layout (bytes), fixed, shared with normalStepKernel.ts:
;;   0      ziggurat table, 256 layers x 16 bytes: f64 scale x[i] / 2^23 at +0,
;;          i32 fast-path threshold at +8 (written once by the loader)
;;   4096   generator state, four v128: word k of lane l at 4096 + 16 k + 4 l
;;   8192   logs, float64[4096] (the chunk being stepped)
;;   40960  misses, int32 pairs (path index, word) of rejected fast-path draws, index order
;;   73728  band values, float32[4096] (bandValues' output)
;;
;; step(n, drift, vol) steps paths 0..n-1 (each lane draws ceil(n / 4) words; words of the
;; padding lanes past n are drawn and discarded) and returns the number of misses. A
;; rejected lane leaves its path unchanged (bitselect keeps the old value); the caller
;; finishes it with the slow path.
;;
;; bandValues(n, w) writes band[p] = float32(w * exp(logs[p])) for p < n (n rounded up to
;; a multiple of 8), exp by Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, and the degree-11
;; Taylor polynomial of e^r (relative error < 1e-14, far below float32's 6e-8), scaled by
;; 2^k built from its bits; x is clamped to [-708, 709] (both ends give float32 0 or
;; infinity anyway for weights near 1). normalStepKernel.ts bandValuesJs is the same
;; computation, op for op.
(module
  (memory (export "memory") 2)

  (func (export "step") (param $n i32) (param $drift f64) (param $vol f64) (result i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $r v128) (local $w v128) (local $t v128) (local $j v128) (local $li v128)
    (local $thr v128) (local $acc v128) (local $sc v128) (local $old v128) (local $new v128)
    (local $dv v128) (local $vv v128)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $p i32) (local $m i32) (local $ptr i32) (local $bm i32)

    (local.set $s0 (v128.load offset=4096 (i32.const 0)))
    (local.set $s1 (v128.load offset=4112 (i32.const 0)))
    (local.set $s2 (v128.load offset=4128 (i32.const 0)))
    (local.set $s3 (v128.load offset=4144 (i32.const 0)))
    (local.set $dv (f64x2.splat (local.get $drift)))
    (local.set $vv (f64x2.splat (local.get $vol)))

    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $next
        ;; xoshiro128** step in every lane: w = rotl(s1 * 5, 7) * 9.
        (local.set $r (i32x4.mul (local.get $s1) (v128.const i32x4 5 5 5 5)))
        (local.set $w
          (i32x4.mul
            (v128.or (i32x4.shl (local.get $r) (i32.const 7)) (i32x4.shr_u (local.get $r) (i32.const 25)))
            (v128.const i32x4 9 9 9 9)))
        (local.set $t (i32x4.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (v128.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (v128.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (v128.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (v128.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (v128.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (v128.or (i32x4.shl (local.get $s3) (i32.const 11)) (i32x4.shr_u (local.get $s3) (i32.const 21))))

        ;; Layer i = w & 0xff (table byte offset 16 i), position j = w >> 8 (arithmetic).
        (local.set $li (i32x4.shl (v128.and (local.get $w) (v128.const i32x4 255 255 255 255)) (i32.const 4)))
        (local.set $a0 (i32x4.extract_lane 0 (local.get $li)))
        (local.set $a1 (i32x4.extract_lane 1 (local.get $li)))
        (local.set $a2 (i32x4.extract_lane 2 (local.get $li)))
        (local.set $a3 (i32x4.extract_lane 3 (local.get $li)))
        (local.set $j (i32x4.shr_s (local.get $w) (i32.const 8)))

        ;; Accept lanes with (j ^ (j >> 31)) < threshold[i].
        (local.set $thr (v128.load32_zero offset=8 (local.get $a0)))
        (local.set $thr (v128.load32_lane offset=8 1 (local.get $a1) (local.get $thr)))
        (local.set $thr (v128.load32_lane offset=8 2 (local.get $a2) (local.get $thr)))
        (local.set $thr (v128.load32_lane offset=8 3 (local.get $a3) (local.get $thr)))
        (local.set $acc
          (i32x4.lt_s
            (v128.xor (local.get $j) (i32x4.shr_s (local.get $j) (i32.const 31)))
            (local.get $thr)))

        (local.set $ptr (i32.shl (local.get $p) (i32.const 3)))

        ;; Lanes 0, 1: z = (j + 0.5) * scale[i]; logs[p] = logs[p] + (drift + vol * z).
        (local.set $sc (v128.load64_zero (local.get $a0)))
        (local.set $sc (v128.load64_lane 1 (local.get $a1) (local.get $sc)))
        (local.set $old (v128.load offset=8192 (local.get $ptr)))
        (local.set $new
          (f64x2.add (local.get $old)
            (f64x2.add (local.get $dv)
              (f64x2.mul (local.get $vv)
                (f64x2.mul
                  (f64x2.add (f64x2.convert_low_i32x4_s (local.get $j)) (v128.const f64x2 0.5 0.5))
                  (local.get $sc))))))
        (v128.store offset=8192 (local.get $ptr)
          (v128.bitselect (local.get $new) (local.get $old) (i64x2.extend_low_i32x4_s (local.get $acc))))

        ;; Lanes 2, 3.
        (local.set $sc (v128.load64_zero (local.get $a2)))
        (local.set $sc (v128.load64_lane 1 (local.get $a3) (local.get $sc)))
        (local.set $old (v128.load offset=8208 (local.get $ptr)))
        (local.set $new
          (f64x2.add (local.get $old)
            (f64x2.add (local.get $dv)
              (f64x2.mul (local.get $vv)
                (f64x2.mul
                  (f64x2.add
                    (f64x2.convert_low_i32x4_s
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $j) (local.get $j)))
                    (v128.const f64x2 0.5 0.5))
                  (local.get $sc))))))
        (v128.store offset=8208 (local.get $ptr)
          (v128.bitselect (local.get $new) (local.get $old) (i64x2.extend_high_i32x4_s (local.get $acc))))

        ;; Rejections (~0.7% of lanes): record (path, word) in lane order for paths < n.
        (local.set $bm (i32x4.bitmask (local.get $acc)))
        (if (i32.ne (local.get $bm) (i32.const 15))
          (then
            (if (i32.eqz (i32.and (local.get $bm) (i32.const 1)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (local.get $p))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 0 (local.get $w)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 2)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 1)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 1)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 1 (local.get $w)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 4)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 2)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 2)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 2 (local.get $w)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 8)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 3)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 3)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 3 (local.get $w)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))))

        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $next (i32.lt_s (local.get $p) (local.get $n)))))

    (v128.store offset=4096 (i32.const 0) (local.get $s0))
    (v128.store offset=4112 (i32.const 0) (local.get $s1))
    (v128.store offset=4128 (i32.const 0) (local.get $s2))
    (v128.store offset=4144 (i32.const 0) (local.get $s3))
    (i32.shr_u (local.get $m) (i32.const 1)))

  (func (export "bandValues") (param $n i32) (param $w f64)
    (local $p i32) (local $a i32) (local $wv v128)
    (local $x0 v128) (local $k0 v128) (local $r0 v128) (local $e0 v128)
    (local $x1 v128) (local $k1 v128) (local $r1 v128) (local $e1 v128)
    (local $x2 v128) (local $k2 v128) (local $r2 v128) (local $e2 v128)
    (local $x3 v128) (local $k3 v128) (local $r3 v128) (local $e3 v128)
    (local.set $wv (f64x2.splat (local.get $w)))
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $next
        ;; Eight values per iteration in four independent chains (the Horner chain is
        ;; latency-bound); step u handles paths p + 2u, p + 2u + 1.
        (local.set $a (i32.shl (local.get $p) (i32.const 3)))
        (local.set $x0 (f64x2.min (f64x2.max (v128.load offset=8192 (local.get $a)) (v128.const f64x2 -708 -708)) (v128.const f64x2 709 709)))
        (local.set $x1 (f64x2.min (f64x2.max (v128.load offset=8208 (local.get $a)) (v128.const f64x2 -708 -708)) (v128.const f64x2 709 709)))
        (local.set $x2 (f64x2.min (f64x2.max (v128.load offset=8224 (local.get $a)) (v128.const f64x2 -708 -708)) (v128.const f64x2 709 709)))
        (local.set $x3 (f64x2.min (f64x2.max (v128.load offset=8240 (local.get $a)) (v128.const f64x2 -708 -708)) (v128.const f64x2 709 709)))
        (local.set $k0 (f64x2.floor (f64x2.add (f64x2.mul (local.get $x0) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $k1 (f64x2.floor (f64x2.add (f64x2.mul (local.get $x1) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $k2 (f64x2.floor (f64x2.add (f64x2.mul (local.get $x2) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $k3 (f64x2.floor (f64x2.add (f64x2.mul (local.get $x3) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $r0 (f64x2.sub (f64x2.sub (local.get $x0) (f64x2.mul (local.get $k0) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))) (f64x2.mul (local.get $k0) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
        (local.set $r1 (f64x2.sub (f64x2.sub (local.get $x1) (f64x2.mul (local.get $k1) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))) (f64x2.mul (local.get $k1) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
        (local.set $r2 (f64x2.sub (f64x2.sub (local.get $x2) (f64x2.mul (local.get $k2) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))) (f64x2.mul (local.get $k2) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
        (local.set $r3 (f64x2.sub (f64x2.sub (local.get $x3) (f64x2.mul (local.get $k3) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))) (f64x2.mul (local.get $k3) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
        ;; Horner, highest degree first: e = ((c11 r + c10) r + c9) ... r + c0, c_i = 1 / i!.
        (local.set $e0 (v128.const f64x2 2.5052108385441720e-8 2.5052108385441720e-8))
        (local.set $e1 (v128.const f64x2 2.5052108385441720e-8 2.5052108385441720e-8))
        (local.set $e2 (v128.const f64x2 2.5052108385441720e-8 2.5052108385441720e-8))
        (local.set $e3 (v128.const f64x2 2.5052108385441720e-8 2.5052108385441720e-8))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 2.7557319223985888e-7 2.7557319223985888e-7)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 2.7557319223985888e-7 2.7557319223985888e-7)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 2.7557319223985888e-7 2.7557319223985888e-7)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 2.7557319223985888e-7 2.7557319223985888e-7)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.0000027557319223985893 0.0000027557319223985893)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.0000027557319223985893 0.0000027557319223985893)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.0000027557319223985893 0.0000027557319223985893)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.0000027557319223985893 0.0000027557319223985893)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.000024801587301587302 0.000024801587301587302)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.000024801587301587302 0.000024801587301587302)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.000024801587301587302 0.000024801587301587302)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.000024801587301587302 0.000024801587301587302)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.00019841269841269841 0.00019841269841269841)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.00019841269841269841 0.00019841269841269841)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.00019841269841269841 0.00019841269841269841)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.00019841269841269841 0.00019841269841269841)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.0013888888888888889 0.0013888888888888889)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.0013888888888888889 0.0013888888888888889)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.0013888888888888889 0.0013888888888888889)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.0013888888888888889 0.0013888888888888889)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.0083333333333333332 0.0083333333333333332)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.0083333333333333332 0.0083333333333333332)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.0083333333333333332 0.0083333333333333332)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.0083333333333333332 0.0083333333333333332)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.041666666666666664 0.041666666666666664)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.041666666666666664 0.041666666666666664)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.041666666666666664 0.041666666666666664)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.041666666666666664 0.041666666666666664)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.16666666666666666 0.16666666666666666)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.16666666666666666 0.16666666666666666)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.16666666666666666 0.16666666666666666)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.16666666666666666 0.16666666666666666)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 0.5 0.5)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 0.5 0.5)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 0.5 0.5)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 0.5 0.5)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 1 1)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 1 1)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 1 1)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 1 1)))
        (local.set $e0 (f64x2.add (f64x2.mul (local.get $e0) (local.get $r0)) (v128.const f64x2 1 1)))
        (local.set $e1 (f64x2.add (f64x2.mul (local.get $e1) (local.get $r1)) (v128.const f64x2 1 1)))
        (local.set $e2 (f64x2.add (f64x2.mul (local.get $e2) (local.get $r2)) (v128.const f64x2 1 1)))
        (local.set $e3 (f64x2.add (f64x2.mul (local.get $e3) (local.get $r3)) (v128.const f64x2 1 1)))
        ;; times 2^k, built from its bits (k + 1023) << 52; then float32(w e).
        (v128.store64_lane offset=73728 0 (i32.shl (local.get $p) (i32.const 2))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $wv) (f64x2.mul (local.get $e0)
            (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k0))) (v128.const i64x2 1023 1023)) (i32.const 52))))))
        (v128.store64_lane offset=73736 0 (i32.shl (local.get $p) (i32.const 2))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $wv) (f64x2.mul (local.get $e1)
            (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k1))) (v128.const i64x2 1023 1023)) (i32.const 52))))))
        (v128.store64_lane offset=73744 0 (i32.shl (local.get $p) (i32.const 2))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $wv) (f64x2.mul (local.get $e2)
            (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k2))) (v128.const i64x2 1023 1023)) (i32.const 52))))))
        (v128.store64_lane offset=73752 0 (i32.shl (local.get $p) (i32.const 2))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $wv) (f64x2.mul (local.get $e3)
            (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k3))) (v128.const i64x2 1023 1023)) (i32.const 52))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $next (i32.lt_s (local.get $p) (local.get $n)))))))
