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
;;   73728  bracket edges, float32[10] (classifyBands' input)
;;   73792  counts of values at or above each edge, int32[10] (classifyBands' output)
;;   90112  ziggurat heights f(x[i]) = exp(-x[i]^2 / 2), float64[257] (written once by the loader)
;;   92672  slow-path stream state, four i32 words (finish's generator, copied in and out)
;;   94208  wedge parabolas, 256 layers x 64 bytes: f64 m, p0, p1, p2, lo, hi at +0..+40
;;          (written once by the loader; see normalStepKernel.ts wedgeParabolas)
;;   110592 bracketed values, float32[4096], and 126976 their brackets, uint8[4096]
;;          (classifyBands' output)
;;   131072 the log-prices before the step of the misses, float64[4096], miss order
;;   196608 correlate's Cholesky factor L, float64[k x k] row-major (k <= 64)
;;   229376 correlate's per-asset drift steps, float64[k], and 229888 its vol steps, float64[k]
;;   262144 correlate's asset log-prices, float64[k x n], asset a's path p at a n + p
;;          (k x n <= 64 x 4096: 2 MiB; pages only touched by jobs with several assets)
;;   163840 assetValues' portfolio values rounded to float32, float32[4096] (its float64 ones
;;          go to 8192, the logs area, free once the steps are done)
;;   230400 assetValues' weights, float64[k], and 230912 its initial prices, float64[k]
;;   2359296 addCorrelatedSteps' sums of each path's normals over the steps of a call, float64[k x n],
;;          laid out as step leaves normals (path p's asset j at p k + j; k x n <= 64 x 4096: 2 MiB)
;;   231424 assetValues' exponential's constants, float64[19] (polynomialExp.ts EXP_TABLE, written once by the loader)
;;
;; step(n, drift, vol, add, base) steps paths 0..n-1 of the float64 array at 8192 + base (each lane draws ceil(n / 4) words; words of the
;; padding lanes past n are drawn and discarded) and returns the number of misses. With add 0
;; it takes every log-price before the step as 0 without reading it (correlate's normals:
;; 0 + (0 + 1 z) is z, so no pass zeroing the area first). A
;; rejected lane's path is written like the others, with a value that finish replaces: the
;; miss list keeps its log-price from before the step (stored with the miss, rather than
;; selected lane by lane on every store), and the caller finishes it with the slow path.
;;
;; finish(q, m, drift, vol, base) finishes misses q..m-1 (of a step with that base) in order with the ziggurat's slow path
;; (ziggurat.ts slowNormal, op for op, so bit-identical to it), drawing from the slow stream
;; whose state the caller copies to 92672 and back: wedge test
;; heights[i] + u (heights[i+1] - heights[i]) < exp(-x^2 / 2) with u from two words as
;; Xoshiro128.nextDouble, a new word on rejection; the tail of the base layer with the
;; imported Math.log (import "math" "log"), so its values are JavaScript's bit for bit.
;; JavaScript's wedge test uses Math.exp, which wasm cannot reproduce bit for bit; the
;; kernel instead decides nearly every draw by a parabola whose gap to the density over the
;; layer is bounded with slack 1e-13 (table at 94208), far wider than Math.exp's error, and
;; the rest (~0.1% of wedge draws) by a Cody-Waite reduction and the degree-13 Taylor
;; polynomial (relative error < 1e-14 on [-6.7, 0]) when the two sides differ by more than
;; the margin at 92688 (1e-12 relative): Math.exp is within one ulp of exact, so either way
;; the decision is Math.exp's. A near tie inside that margin (essentially never) stops the
;; loop before that attempt draws anything: the miss's current word (j << 8 | i) is written
;; over its word in the miss list and the index of the miss returned; the caller finishes
;; it with slowNormal from that word and calls again from the next miss. Returns m when
;; all are done.
;;
;; classifyBands(n) takes the float32 roundings v of logs[0..n) (n a multiple of 4) and
;; ten increasing float32 edges e0..e9 (five brackets [e2k, e2k+1)): it writes to count i the
;; number of v >= e_i, and appends each v inside a bracket (v >= e2k and not v >= e2k+1)
;; to the bracketed list with its bracket k, in path order; returns how many it appended.
;; normalStepKernel.ts classifyBandsJs is the same computation.
;;
;; assetValues(n, k, terminal) takes the asset log-prices x at 262144 (k assets, n paths) and
;; writes each path's portfolio value V = 0 + w_0 e^x_0 + ... + w_(k-1) e^x_(k-1), summed in that
;; order, to 8192 (float64) and, unless terminal, its float32 rounding to 163840; with terminal
;; it also replaces each log-price by the price S_0 e^x. e^x is polynomialExp's, not Math.exp's:
;; normalStepKernel.ts assetValuesJs is the same computation with polynomialExp
;; (shared/numerics/polynomialExp.ts), bit for bit.
;;
;; correlate(c, k, p0, n, zbase) takes standard normals z for c paths of k assets at 8192 + zbase
;; (path p's asset j at p k + j, as step leaves them with drift 0 and vol 1; in practice the
;; sums of the normals of several steps) and adds each path's correlated move to the asset
;; log-prices: X[a n + p0 + p] = X[a n + p0 + p] + (drift[a] + vol[a] e), e = 0 + L[a][0] z_0
;; + ... + L[a][a] z_a summed left to right, exactly as normalStepKernel.ts
;; addCorrelatedStepsJs (two paths per f64x2; no fused multiply-add, so bit-identical to it).
(module
  (import "math" "log" (func $log (param f64) (result f64)))
  (import "math" "exp" (func $mathExp (param f64) (result f64)))
  (memory (export "memory") 68)

  ;; Xoshiro128.nextDouble on the slow stream's state in memory (92672), for the rare tail.
  (func $slowDouble (result f64)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $r i32) (local $t i32) (local $hi i32) (local $lo i32)
    (local.set $s0 (i32.load offset=92672 (i32.const 0)))
    (local.set $s1 (i32.load offset=92676 (i32.const 0)))
    (local.set $s2 (i32.load offset=92680 (i32.const 0)))
    (local.set $s3 (i32.load offset=92684 (i32.const 0)))
    (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
    (local.set $hi (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
    (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
    (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
    (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
    (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
    (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
    (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
    (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
    (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
    (local.set $lo (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
    (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
    (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
    (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
    (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
    (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
    (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
    (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
    (i32.store offset=92672 (i32.const 0) (local.get $s0))
    (i32.store offset=92676 (i32.const 0) (local.get $s1))
    (i32.store offset=92680 (i32.const 0) (local.get $s2))
    (i32.store offset=92684 (i32.const 0) (local.get $s3))
    (f64.mul
      (f64.add
        (f64.mul (f64.convert_i32_u (i32.shr_u (local.get $hi) (i32.const 5))) (f64.const 67108864))
        (f64.convert_i32_u (i32.shr_u (local.get $lo) (i32.const 6))))
      (f64.const 0x1p-53)))

  (func (export "step") (param $n i32) (param $drift f64) (param $vol f64) (param $add i32) (param $base i32) (result i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $r v128) (local $w v128) (local $t v128) (local $j v128) (local $li v128)
    (local $thr v128) (local $acc v128) (local $sc v128) (local $old v128) (local $old2 v128)
    (local $dv v128) (local $vv v128) (local $c5 v128) (local $c9 v128) (local $c255 v128) (local $half v128) (local $zero v128)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $p i32) (local $m i32) (local $ptr i32) (local $bm i32)

    (local.set $s0 (v128.load offset=4096 (i32.const 0)))
    (local.set $s1 (v128.load offset=4112 (i32.const 0)))
    (local.set $s2 (v128.load offset=4128 (i32.const 0)))
    (local.set $s3 (v128.load offset=4144 (i32.const 0)))
    (local.set $dv (f64x2.splat (local.get $drift)))
    (local.set $vv (f64x2.splat (local.get $vol)))
    ;; The loop's constants in locals: V8 builds a v128.const from general registers each time
    ;; it meets one (a few instructions), where a local stays in a register or one load away.
    (local.set $c5 (v128.const i32x4 5 5 5 5))
    (local.set $c9 (v128.const i32x4 9 9 9 9))
    (local.set $c255 (v128.const i32x4 255 255 255 255))
    (local.set $half (v128.const f64x2 0.5 0.5))

    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $next
        ;; xoshiro128** step in every lane: w = rotl(s1 * 5, 7) * 9.
        (local.set $r (i32x4.mul (local.get $s1) (local.get $c5)))
        (local.set $w
          (i32x4.mul
            (v128.or (i32x4.shl (local.get $r) (i32.const 7)) (i32x4.shr_u (local.get $r) (i32.const 25)))
            (local.get $c9)))
        (local.set $t (i32x4.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (v128.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (v128.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (v128.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (v128.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (v128.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (v128.or (i32x4.shl (local.get $s3) (i32.const 11)) (i32x4.shr_u (local.get $s3) (i32.const 21))))

        ;; Layer i = w & 0xff (table byte offset 16 i), position j = w >> 8 (arithmetic).
        (local.set $li (i32x4.shl (v128.and (local.get $w) (local.get $c255)) (i32.const 4)))
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

        (local.set $ptr (i32.add (local.get $base) (i32.shl (local.get $p) (i32.const 3))))

        ;; Lanes 0, 1: z = (j + 0.5) * scale[i]; logs[p] = logs[p] + (drift + vol * z).
        (local.set $sc (v128.load64_zero (local.get $a0)))
        (local.set $sc (v128.load64_lane 1 (local.get $a1) (local.get $sc)))
        (local.set $old
          (select (result v128) (v128.load offset=8192 (local.get $ptr)) (local.get $zero) (local.get $add)))
        (v128.store offset=8192 (local.get $ptr)
          (f64x2.add (local.get $old)
            (f64x2.add (local.get $dv)
              (f64x2.mul (local.get $vv)
                (f64x2.mul
                  (f64x2.add (f64x2.convert_low_i32x4_s (local.get $j)) (local.get $half))
                  (local.get $sc))))))

        ;; Lanes 2, 3.
        (local.set $sc (v128.load64_zero (local.get $a2)))
        (local.set $sc (v128.load64_lane 1 (local.get $a3) (local.get $sc)))
        (local.set $old2
          (select (result v128) (v128.load offset=8208 (local.get $ptr)) (local.get $zero) (local.get $add)))
        (v128.store offset=8208 (local.get $ptr)
          (f64x2.add (local.get $old2)
            (f64x2.add (local.get $dv)
              (f64x2.mul (local.get $vv)
                (f64x2.mul
                  (f64x2.add
                    (f64x2.convert_low_i32x4_s
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $j) (local.get $j)))
                    (local.get $half))
                  (local.get $sc))))))

        ;; Rejections (~1.2% of lanes): record (path, word) and the path's log-price before the
        ;; step (at 131072 + 8 miss) in lane order, for paths < n.
        (local.set $bm (i32x4.bitmask (local.get $acc)))
        (if (i32.ne (local.get $bm) (i32.const 15))
          (then
            (if (i32.eqz (i32.and (local.get $bm) (i32.const 1)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (local.get $p))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 0 (local.get $w)))
                (f64.store offset=131072 (i32.shl (local.get $m) (i32.const 2)) (f64x2.extract_lane 0 (local.get $old)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 2)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 1)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 1)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 1 (local.get $w)))
                (f64.store offset=131072 (i32.shl (local.get $m) (i32.const 2)) (f64x2.extract_lane 1 (local.get $old)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 4)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 2)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 2)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 2 (local.get $w)))
                (f64.store offset=131072 (i32.shl (local.get $m) (i32.const 2)) (f64x2.extract_lane 0 (local.get $old2)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))
            (if (i32.and
                  (i32.eqz (i32.and (local.get $bm) (i32.const 8)))
                  (i32.lt_s (i32.add (local.get $p) (i32.const 3)) (local.get $n)))
              (then
                (i32.store offset=40960 (i32.shl (local.get $m) (i32.const 2)) (i32.add (local.get $p) (i32.const 3)))
                (i32.store offset=40964 (i32.shl (local.get $m) (i32.const 2)) (i32x4.extract_lane 3 (local.get $w)))
                (f64.store offset=131072 (i32.shl (local.get $m) (i32.const 2)) (f64x2.extract_lane 1 (local.get $old2)))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))))))

        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $next (i32.lt_s (local.get $p) (local.get $n)))))

    (v128.store offset=4096 (i32.const 0) (local.get $s0))
    (v128.store offset=4112 (i32.const 0) (local.get $s1))
    (v128.store offset=4128 (i32.const 0) (local.get $s2))
    (v128.store offset=4144 (i32.const 0) (local.get $s3))
    (i32.shr_u (local.get $m) (i32.const 1)))

  (func (export "finish") (param $q i32) (param $m i32) (param $drift f64) (param $vol f64) (param $base i32) (result i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $w i32) (local $i i32) (local $j i32) (local $a i32) (local $r i32) (local $t i32)
    (local $x f64) (local $u f64) (local $y f64) (local $z f64) (local $k f64) (local $e f64) (local $d f64)
    (local $h i32) (local $ptr i32)
    (local.set $s0 (i32.load offset=92672 (i32.const 0)))
    (local.set $s1 (i32.load offset=92676 (i32.const 0)))
    (local.set $s2 (i32.load offset=92680 (i32.const 0)))
    (local.set $s3 (i32.load offset=92684 (i32.const 0)))
    (block $stop
      (loop $miss
        (br_if $stop (i32.ge_s (local.get $q) (local.get $m)))
        (local.set $ptr (i32.shl (local.get $q) (i32.const 3)))
        (local.set $w (i32.load offset=40964 (local.get $ptr)))
        (block $accepted
          (loop $try
            ;; x = (j + 0.5) * scale[i]; the fast test again (a redrawn word may pass it).
            (local.set $i (i32.and (local.get $w) (i32.const 255)))
            (local.set $j (i32.shr_s (local.get $w) (i32.const 8)))
            (local.set $a (i32.shl (local.get $i) (i32.const 4)))
            (local.set $x
              (f64.mul
                (f64.add (f64.convert_i32_s (local.get $j)) (f64.const 0.5))
                (f64.load (local.get $a))))
            (br_if $accepted
              (i32.lt_s
                (i32.xor (local.get $j) (i32.shr_s (local.get $j) (i32.const 31)))
                (i32.load offset=8 (local.get $a))))
            ;; Base layer: the tail beyond r (Marsaglia 1964) with the imported Math.log,
            ;; x = -ln(1 - u1) / r accepted when -2 ln(1 - u2) >= x^2; z = +-(r + x).
            (if (i32.eqz (local.get $i))
              (then
                (i32.store offset=92672 (i32.const 0) (local.get $s0))
                (i32.store offset=92676 (i32.const 0) (local.get $s1))
                (i32.store offset=92680 (i32.const 0) (local.get $s2))
                (i32.store offset=92684 (i32.const 0) (local.get $s3))
                (loop $tail
                  (local.set $x
                    (f64.div
                      (f64.neg (call $log (f64.sub (f64.const 1) (call $slowDouble))))
                      (f64.const 3.6541528853610088)))
                  (local.set $y (f64.neg (call $log (f64.sub (f64.const 1) (call $slowDouble)))))
                  (br_if $tail (f64.lt (f64.add (local.get $y) (local.get $y)) (f64.mul (local.get $x) (local.get $x)))))
                (local.set $s0 (i32.load offset=92672 (i32.const 0)))
                (local.set $s1 (i32.load offset=92676 (i32.const 0)))
                (local.set $s2 (i32.load offset=92680 (i32.const 0)))
                (local.set $s3 (i32.load offset=92684 (i32.const 0)))
                (local.set $x (f64.add (f64.const 3.6541528853610088) (local.get $x)))
                (if (i32.lt_s (local.get $j) (i32.const 0))
                  (then (local.set $x (f64.neg (local.get $x)))))
                (br $accepted)))
            (local.set $b0 (local.get $s0)) (local.set $b1 (local.get $s1))
            (local.set $b2 (local.get $s2)) (local.set $b3 (local.get $s3))
            ;; u = nextDouble(): 27 bits of one word, 26 of the next, / 2^53 (exactly: times 2^-53).
            (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
            (local.set $a (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            (local.set $u (f64.mul (f64.convert_i32_u (i32.shr_u (local.get $a) (i32.const 5))) (f64.const 67108864)))
            (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
            (local.set $a (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            (local.set $u
              (f64.mul
                (f64.add (local.get $u) (f64.convert_i32_u (i32.shr_u (local.get $a) (i32.const 6))))
                (f64.const 0x1p-53)))
            ;; y = heights[i] + u * (heights[i + 1] - heights[i]).
            (local.set $h (i32.shl (local.get $i) (i32.const 3)))
            (local.set $y (f64.load offset=90112 (local.get $h)))
            (local.set $y
              (f64.add (local.get $y)
                (f64.mul (local.get $u) (f64.sub (f64.load offset=90120 (local.get $h)) (local.get $y)))))
            ;; Nearly every draw is decided by the parabola P(u) = p0 + u (p1 + u p2), u = |x| - m,
            ;; whose gap to the density over the layer is bounded (normalStepKernel.ts
            ;; wedgeParabolas): d = y - P above hi rejects, below lo accepts; in between
            ;; (~0.1% of wedge draws) the exponential decides.
            (local.set $a (i32.shl (local.get $i) (i32.const 6)))
            (local.set $z (f64.sub (f64.abs (local.get $x)) (f64.load offset=94208 (local.get $a))))
            (local.set $d
              (f64.sub (local.get $y)
                (f64.add (f64.load offset=94216 (local.get $a))
                  (f64.mul (local.get $z)
                    (f64.add (f64.load offset=94224 (local.get $a))
                      (f64.mul (local.get $z) (f64.load offset=94232 (local.get $a))))))))
            (br_if $accepted (f64.lt (local.get $d) (f64.load offset=94240 (local.get $a))))
            (if (f64.le (local.get $d) (f64.load offset=94248 (local.get $a)))
              (then
            ;; e ~ exp(z), z = -0.5 * x * x (as JavaScript evaluates it): z = k ln2 + r.
            (local.set $z (f64.mul (f64.mul (f64.const -0.5) (local.get $x)) (local.get $x)))
            (local.set $k (f64.floor (f64.add (f64.mul (local.get $z) (f64.const 1.4426950408889634)) (f64.const 0.5))))
            (local.set $z
              (f64.sub
                (f64.sub (local.get $z) (f64.mul (local.get $k) (f64.const 6.93147180369123816490e-01)))
                (f64.mul (local.get $k) (f64.const 1.90821492927058770002e-10))))
            (local.set $e (f64.const 1.6059043836821613e-10))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 2.08767569878681e-09)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 2.505210838544172e-08)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 2.755731922398589e-07)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 2.7557319223985893e-06)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 2.48015873015873e-05)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.0001984126984126984)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.001388888888888889)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.008333333333333333)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.041666666666666664)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.16666666666666666)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 0.5)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 1)))
            (local.set $e (f64.add (f64.mul (local.get $e) (local.get $z)) (f64.const 1)))
            (local.set $e
              (f64.mul (local.get $e)
                (f64.reinterpret_i64
                  (i64.shl (i64.add (i64.trunc_f64_s (local.get $k)) (i64.const 1023)) (i64.const 52)))))
            ;; Decide only outside the 1e-12 band; a near tie goes to JavaScript, undrawn.
            (local.set $d (f64.sub (local.get $y) (local.get $e)))
            (if (f64.le (f64.abs (local.get $d)) (f64.mul (local.get $e) (f64.load offset=92688 (i32.const 0))))
              (then
                (local.set $s0 (local.get $b0)) (local.set $s1 (local.get $b1))
                (local.set $s2 (local.get $b2)) (local.set $s3 (local.get $b3))
                (i32.store offset=40964 (local.get $ptr) (local.get $w))
                (br $stop)))
            (br_if $accepted (f64.lt (local.get $d) (f64.const 0)))))
            ;; Rejected: a new word, w = nextUint32() | 0.
            (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
            (local.set $w (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            (br $try)))
        ;; logs[p] = (log-price before the step) + (drift + vol * x).
        (local.set $a (i32.add (local.get $base) (i32.shl (i32.load offset=40960 (local.get $ptr)) (i32.const 3))))
        (f64.store offset=8192 (local.get $a)
          (f64.add (f64.load offset=131072 (local.get $ptr))
            (f64.add (local.get $drift) (f64.mul (local.get $vol) (local.get $x)))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $miss)))
    (i32.store offset=92672 (i32.const 0) (local.get $s0))
    (i32.store offset=92676 (i32.const 0) (local.get $s1))
    (i32.store offset=92680 (i32.const 0) (local.get $s2))
    (i32.store offset=92684 (i32.const 0) (local.get $s3))
    (local.get $q))

  (func (export "classifyBands") (param $n i32) (result i32)
    ;; Counts accumulate as -1 per hit in i16 lanes, two edges per v128 (lanes 0-3 edge 2i,
    ;; 4-7 edge 2i + 1; at most n / 4 <= 1024 per lane); the edges are splatted from memory
    ;; each time round, which keeps the loop within the 16 vector registers.
    (local $p i32) (local $m i32) (local $v v128) (local $in v128) (local $lower v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $g4 v128)
    (local $g5 v128) (local $g6 v128) (local $g7 v128) (local $g8 v128) (local $g9 v128)
    (local $c01 v128) (local $c23 v128) (local $c45 v128) (local $c67 v128) (local $c89 v128)
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $next
        ;; v = float32(logs[p..p+4)), lanes in path order.
        (local.set $v
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (v128.load offset=8192 (i32.shl (local.get $p) (i32.const 3))))
            (f32x4.demote_f64x2_zero (v128.load offset=8208 (i32.shl (local.get $p) (i32.const 3))))))
        ;; g_i = (v >= e_i) as -1 / 0 per lane.
        (local.set $g0 (f32x4.ge (local.get $v) (v128.load32_splat offset=73728 (i32.const 0))))
        (local.set $g1 (f32x4.ge (local.get $v) (v128.load32_splat offset=73732 (i32.const 0))))
        (local.set $g2 (f32x4.ge (local.get $v) (v128.load32_splat offset=73736 (i32.const 0))))
        (local.set $g3 (f32x4.ge (local.get $v) (v128.load32_splat offset=73740 (i32.const 0))))
        (local.set $g4 (f32x4.ge (local.get $v) (v128.load32_splat offset=73744 (i32.const 0))))
        (local.set $g5 (f32x4.ge (local.get $v) (v128.load32_splat offset=73748 (i32.const 0))))
        (local.set $g6 (f32x4.ge (local.get $v) (v128.load32_splat offset=73752 (i32.const 0))))
        (local.set $g7 (f32x4.ge (local.get $v) (v128.load32_splat offset=73756 (i32.const 0))))
        (local.set $g8 (f32x4.ge (local.get $v) (v128.load32_splat offset=73760 (i32.const 0))))
        (local.set $g9 (f32x4.ge (local.get $v) (v128.load32_splat offset=73764 (i32.const 0))))
        (local.set $c01 (i16x8.sub (local.get $c01) (i16x8.narrow_i32x4_s (local.get $g0) (local.get $g1))))
        (local.set $c23 (i16x8.sub (local.get $c23) (i16x8.narrow_i32x4_s (local.get $g2) (local.get $g3))))
        (local.set $c45 (i16x8.sub (local.get $c45) (i16x8.narrow_i32x4_s (local.get $g4) (local.get $g5))))
        (local.set $c67 (i16x8.sub (local.get $c67) (i16x8.narrow_i32x4_s (local.get $g6) (local.get $g7))))
        (local.set $c89 (i16x8.sub (local.get $c89) (i16x8.narrow_i32x4_s (local.get $g8) (local.get $g9))))
        ;; Inside bracket k: g_2k and not g_2k+1.
        (local.set $in
          (v128.or
            (v128.or
              (v128.or (v128.andnot (local.get $g0) (local.get $g1)) (v128.andnot (local.get $g2) (local.get $g3)))
              (v128.or (v128.andnot (local.get $g4) (local.get $g5)) (v128.andnot (local.get $g6) (local.get $g7))))
            (v128.andnot (local.get $g8) (local.get $g9))))
        (if (v128.any_true (local.get $in))
          (then
            ;; The bracket of an inside lane: (number of lower edges at or below v) - 1.
            (local.set $lower
              (i32x4.sub (i32x4.splat (i32.const -1))
                (i32x4.add (i32x4.add (i32x4.add (local.get $g0) (local.get $g2)) (i32x4.add (local.get $g4) (local.get $g6))) (local.get $g8))))
            (if (i32x4.extract_lane 0 (local.get $in))
              (then
                (f32.store offset=110592 (i32.shl (local.get $m) (i32.const 2)) (f32x4.extract_lane 0 (local.get $v)))
                (i32.store8 offset=126976 (local.get $m) (i32x4.extract_lane 0 (local.get $lower)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))
            (if (i32x4.extract_lane 1 (local.get $in))
              (then
                (f32.store offset=110592 (i32.shl (local.get $m) (i32.const 2)) (f32x4.extract_lane 1 (local.get $v)))
                (i32.store8 offset=126976 (local.get $m) (i32x4.extract_lane 1 (local.get $lower)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))
            (if (i32x4.extract_lane 2 (local.get $in))
              (then
                (f32.store offset=110592 (i32.shl (local.get $m) (i32.const 2)) (f32x4.extract_lane 2 (local.get $v)))
                (i32.store8 offset=126976 (local.get $m) (i32x4.extract_lane 2 (local.get $lower)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))
            (if (i32x4.extract_lane 3 (local.get $in))
              (then
                (f32.store offset=110592 (i32.shl (local.get $m) (i32.const 2)) (f32x4.extract_lane 3 (local.get $v)))
                (i32.store8 offset=126976 (local.get $m) (i32x4.extract_lane 3 (local.get $lower)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $next (i32.lt_s (local.get $p) (local.get $n)))))
    ;; The counts at 73792: edge 2i from lanes 0-3 of c(2i)(2i+1), edge 2i + 1 from lanes 4-7.
    (i32.store offset=73792 (i32.const 0) (call $lowSum (local.get $c01)))
    (i32.store offset=73796 (i32.const 0) (call $highSum (local.get $c01)))
    (i32.store offset=73800 (i32.const 0) (call $lowSum (local.get $c23)))
    (i32.store offset=73804 (i32.const 0) (call $highSum (local.get $c23)))
    (i32.store offset=73808 (i32.const 0) (call $lowSum (local.get $c45)))
    (i32.store offset=73812 (i32.const 0) (call $highSum (local.get $c45)))
    (i32.store offset=73816 (i32.const 0) (call $lowSum (local.get $c67)))
    (i32.store offset=73820 (i32.const 0) (call $highSum (local.get $c67)))
    (i32.store offset=73824 (i32.const 0) (call $lowSum (local.get $c89)))
    (i32.store offset=73828 (i32.const 0) (call $highSum (local.get $c89)))
    (local.get $m))

  ;; Sums of i16 lanes 0-3 and 4-7 (each at most 1024, so no overflow).
  (func $lowSum (param $x v128) (result i32)
    (i32.add
      (i32.add (i16x8.extract_lane_s 0 (local.get $x)) (i16x8.extract_lane_s 1 (local.get $x)))
      (i32.add (i16x8.extract_lane_s 2 (local.get $x)) (i16x8.extract_lane_s 3 (local.get $x)))))
  (func $highSum (param $x v128) (result i32)
    (i32.add
      (i32.add (i16x8.extract_lane_s 4 (local.get $x)) (i16x8.extract_lane_s 5 (local.get $x)))
      (i32.add (i16x8.extract_lane_s 6 (local.get $x)) (i16x8.extract_lane_s 7 (local.get $x)))))


  (func (export "assetValues") (param $n i32) (param $k i32) (param $terminal i32)
    (local $p i32) (local $a i32) (local $x i32) (local $nb i32) (local $ab i32) (local $pair i32)
    (local $v v128) (local $e v128) (local $lx v128) (local $kd v128) (local $kf v128)
    (local $r v128) (local $r2 v128) (local $r4 v128) (local $poly v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (block $done
      (loop $paths
        (br_if $done (i32.ge_s (local.get $p) (local.get $n)))
        ;; Two paths a time; an odd last one in lane 0 alone (lane 1 neither read nor written).
        (local.set $pair (i32.lt_s (i32.add (local.get $p) (i32.const 1)) (local.get $n)))
        (local.set $v (v128.const f64x2 0 0))
        (local.set $a (i32.const 0))
        (local.set $x (i32.shl (local.get $p) (i32.const 3)))
        (loop $assets
          (local.set $ab (i32.shl (local.get $a) (i32.const 3)))
          (local.set $lx
            (if (result v128) (local.get $pair)
              (then (v128.load offset=262144 (local.get $x)))
              (else (v128.load64_zero offset=262144 (local.get $x)))))
          ;; e = e^lx in both lanes: polynomialExp (shared/numerics/polynomialExp.ts) op for op,
          ;; so the same numbers. kf = round(lx / ln 2) (ties to even, by adding and subtracting
          ;; 1.5 * 2^52), r = (lx - kf ln2hi) - kf ln2lo (Cody-Waite; kf ln2hi exact),
          ;; e^r = 1 + (r + r^2 P(r)), P the Taylor polynomial of terms 1/2! .. 1/13! by
          ;; Estrin's scheme (short dependency chains), times 2^kf built from the bits of kd.
          ;; Lanes with |lx| > 700 (beyond the scale's range) take the imported Math.exp.
          ;; The constants come from the table at 231424 (polynomialExp.ts EXP_TABLE), one
          ;; load each, where a v128.const costs V8 a few instructions at every use.
          (local.set $kd (f64x2.add (f64x2.mul (local.get $lx) (v128.load64_splat offset=231424 (i32.const 0))) (v128.load64_splat offset=231432 (i32.const 0))))
          (local.set $kf (f64x2.sub (local.get $kd) (v128.load64_splat offset=231432 (i32.const 0))))
          (local.set $r (f64x2.sub (f64x2.sub (local.get $lx) (f64x2.mul (local.get $kf) (v128.load64_splat offset=231440 (i32.const 0)))) (f64x2.mul (local.get $kf) (v128.load64_splat offset=231448 (i32.const 0)))))
          (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
          (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
          ;; P = (u0 + u1 r^4) + u2 r^8, u_i = q_2i + q_2i+1 r^2, q_j = c_2j+2 + c_2j+3 r.
          (local.set $poly
            (f64x2.add
              (f64x2.add
                (f64x2.add (f64x2.add (v128.load64_splat offset=231456 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231464 (i32.const 0)) (local.get $r))) (f64x2.mul (f64x2.add (v128.load64_splat offset=231472 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231480 (i32.const 0)) (local.get $r))) (local.get $r2)))
                (f64x2.mul (f64x2.add (f64x2.add (v128.load64_splat offset=231488 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231496 (i32.const 0)) (local.get $r))) (f64x2.mul (f64x2.add (v128.load64_splat offset=231504 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231512 (i32.const 0)) (local.get $r))) (local.get $r2))) (local.get $r4)))
              (f64x2.mul (f64x2.add (f64x2.add (v128.load64_splat offset=231520 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231528 (i32.const 0)) (local.get $r))) (f64x2.mul (f64x2.add (v128.load64_splat offset=231536 (i32.const 0)) (f64x2.mul (v128.load64_splat offset=231544 (i32.const 0)) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $r4) (local.get $r4)))))
          (local.set $e
            (f64x2.mul
              (f64x2.add (v128.load64_splat offset=231552 (i32.const 0)) (f64x2.add (local.get $r) (f64x2.mul (local.get $r2) (local.get $poly))))
              ;; 2^kf: the bits of kd less those of 1.5 * 2^52 are kf; (kf + 1023) << 52, the
              ;; table's last entry holding bits(1.5 * 2^52) - 1023.
              (i64x2.shl (i64x2.sub (local.get $kd) (v128.load64_splat offset=231568 (i32.const 0))) (i32.const 52))))
          (if (v128.any_true (f64x2.gt (f64x2.abs (local.get $lx)) (v128.load64_splat offset=231560 (i32.const 0))))
            (then
              (if (f64.gt (f64.abs (f64x2.extract_lane 0 (local.get $lx))) (f64.const 700))
                (then (local.set $e (f64x2.replace_lane 0 (local.get $e) (call $mathExp (f64x2.extract_lane 0 (local.get $lx)))))))
              (if (f64.gt (f64.abs (f64x2.extract_lane 1 (local.get $lx))) (f64.const 700))
                (then (local.set $e (f64x2.replace_lane 1 (local.get $e) (call $mathExp (f64x2.extract_lane 1 (local.get $lx)))))))))
          (local.set $v (f64x2.add (local.get $v) (f64x2.mul (v128.load64_splat offset=230400 (local.get $ab)) (local.get $e))))
          (if (local.get $terminal)
            (then
              (local.set $e (f64x2.mul (v128.load64_splat offset=230912 (local.get $ab)) (local.get $e)))
              (if (local.get $pair)
                (then (v128.store offset=262144 (local.get $x) (local.get $e)))
                (else (v128.store64_lane offset=262144 0 (local.get $x) (local.get $e))))))
          (local.set $x (i32.add (local.get $x) (local.get $nb)))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (br_if $assets (i32.lt_s (local.get $a) (local.get $k))))
        (if (local.get $pair)
          (then (v128.store offset=8192 (i32.shl (local.get $p) (i32.const 3)) (local.get $v)))
          (else (v128.store64_lane offset=8192 0 (i32.shl (local.get $p) (i32.const 3)) (local.get $v))))
        (if (i32.eqz (local.get $terminal))
          (then
            ;; Both float32 lanes (8 bytes); past an odd last path, a value nobody reads.
            (v128.store64_lane offset=163840 0 (i32.shl (local.get $p) (i32.const 2)) (f32x4.demote_f64x2_zero (local.get $v)))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $paths))))

  (func (export "correlate") (param $c i32) (param $k i32) (param $p0 i32) (param $n i32) (param $zbase i32)
    (local $p i32) (local $a i32) (local $jb i32) (local $ab i32) (local $kb i32) (local $row i32)
    (local $zp i32) (local $zq i32) (local $x i32) (local $e v128) (local $zz v128) (local $s f64)
    (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
    (if (i32.eq (local.get $k) (i32.const 3))
      (then (local.set $p (call $correlate3 (local.get $c) (local.get $p0) (local.get $n) (local.get $zbase)))))
    ;; Two paths at a time: lane 0 path p, lane 1 path p + 1.
    (block $pairs
      (loop $pair
        (br_if $pairs (i32.gt_s (i32.add (local.get $p) (i32.const 2)) (local.get $c)))
        (local.set $zp (i32.add (local.get $zbase) (i32.mul (local.get $p) (local.get $kb))))
        (local.set $zq (i32.add (local.get $zp) (local.get $kb)))
        (local.set $a (i32.const 0))
        (local.set $row (i32.const 0))
        (loop $asset
          (local.set $ab (i32.shl (local.get $a) (i32.const 3)))
          (local.set $e (v128.const f64x2 0 0))
          (local.set $jb (i32.const 0))
          (loop $term
            (local.set $zz (v128.load64_zero offset=8192 (i32.add (local.get $zp) (local.get $jb))))
            (local.set $zz (v128.load64_lane offset=8192 1 (i32.add (local.get $zq) (local.get $jb)) (local.get $zz)))
            (local.set $e
              (f64x2.add (local.get $e)
                (f64x2.mul (v128.load64_splat offset=196608 (i32.add (local.get $row) (local.get $jb))) (local.get $zz))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 8)))
            (br_if $term (i32.le_s (local.get $jb) (local.get $ab))))
          (local.set $x
            (i32.shl (i32.add (i32.mul (local.get $a) (local.get $n)) (i32.add (local.get $p0) (local.get $p))) (i32.const 3)))
          (v128.store offset=262144 (local.get $x)
            (f64x2.add (v128.load offset=262144 (local.get $x))
              (f64x2.add (v128.load64_splat offset=229376 (local.get $ab))
                (f64x2.mul (v128.load64_splat offset=229888 (local.get $ab)) (local.get $e)))))
          (local.set $row (i32.add (local.get $row) (local.get $kb)))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (br_if $asset (i32.lt_s (local.get $a) (local.get $k))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pair)))
    ;; An odd last path, in scalar float64 (the same operations).
    (if (i32.lt_s (local.get $p) (local.get $c))
      (then
        (local.set $zp (i32.add (local.get $zbase) (i32.mul (local.get $p) (local.get $kb))))
        (local.set $a (i32.const 0))
        (local.set $row (i32.const 0))
        (loop $asset1
          (local.set $ab (i32.shl (local.get $a) (i32.const 3)))
          (local.set $s (f64.const 0))
          (local.set $jb (i32.const 0))
          (loop $term1
            (local.set $s
              (f64.add (local.get $s)
                (f64.mul (f64.load offset=196608 (i32.add (local.get $row) (local.get $jb)))
                  (f64.load offset=8192 (i32.add (local.get $zp) (local.get $jb))))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 8)))
            (br_if $term1 (i32.le_s (local.get $jb) (local.get $ab))))
          (local.set $x
            (i32.shl (i32.add (i32.mul (local.get $a) (local.get $n)) (i32.add (local.get $p0) (local.get $p))) (i32.const 3)))
          (f64.store offset=262144 (local.get $x)
            (f64.add (f64.load offset=262144 (local.get $x))
              (f64.add (f64.load offset=229376 (local.get $ab))
                (f64.mul (f64.load offset=229888 (local.get $ab)) (local.get $s)))))
          (local.set $row (i32.add (local.get $row) (local.get $kb)))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (br_if $asset1 (i32.lt_s (local.get $a) (local.get $k)))))))

  ;; correlate for k = 3, unrolled: the pairs of paths of 0..c-1, L, drift and vol in locals;
  ;; returns the paths done (c rounded down to even). The sums drop correlate's leading
  ;; 0 +: it only turns a -0 into +0, and e's last term L[a][a] z_a is never zero (L[a][a] > 0,
  ;; z != 0), so the sum is the same number either way.
  (func $correlate3 (param $c i32) (param $p0 i32) (param $n i32) (param $zbase i32) (result i32)
    (local $p i32) (local $zp i32) (local $x0 i32) (local $x1 i32) (local $x2 i32)
    (local $l00 v128) (local $l10 v128) (local $l11 v128) (local $l20 v128) (local $l21 v128) (local $l22 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $v0 v128) (local $v1 v128) (local $v2 v128)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $a0 v128) (local $a1 v128) (local $a2 v128)
    (local.set $l00 (v128.load64_splat offset=196608 (i32.const 0)))
    (local.set $l10 (v128.load64_splat offset=196632 (i32.const 0)))
    (local.set $l11 (v128.load64_splat offset=196640 (i32.const 0)))
    (local.set $l20 (v128.load64_splat offset=196656 (i32.const 0)))
    (local.set $l21 (v128.load64_splat offset=196664 (i32.const 0)))
    (local.set $l22 (v128.load64_splat offset=196672 (i32.const 0)))
    (local.set $d0 (v128.load64_splat offset=229376 (i32.const 0)))
    (local.set $d1 (v128.load64_splat offset=229384 (i32.const 0)))
    (local.set $d2 (v128.load64_splat offset=229392 (i32.const 0)))
    (local.set $v0 (v128.load64_splat offset=229888 (i32.const 0)))
    (local.set $v1 (v128.load64_splat offset=229896 (i32.const 0)))
    (local.set $v2 (v128.load64_splat offset=229904 (i32.const 0)))
    (local.set $x0 (i32.shl (local.get $p0) (i32.const 3)))
    (local.set $x1 (i32.add (local.get $x0) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $x2 (i32.add (local.get $x1) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $zp (local.get $zbase))
    (block $done
      (loop $pair
        (br_if $done (i32.gt_s (i32.add (local.get $p) (i32.const 2)) (local.get $c)))
        ;; u0 = [p0 a0, p0 a1], u1 = [p0 a2, p1 a0], u2 = [p1 a1, p1 a2] -> a_j = [p0 aj, p1 aj].
        (local.set $u0 (v128.load offset=8192 (local.get $zp)))
        (local.set $u1 (v128.load offset=8208 (local.get $zp)))
        (local.set $u2 (v128.load offset=8224 (local.get $zp)))
        (local.set $a0 (i8x16.shuffle 0 1 2 3 4 5 6 7 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u1)))
        (local.set $a1 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (local.set $a2 (i8x16.shuffle 0 1 2 3 4 5 6 7 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u2)))
        (v128.store offset=262144 (local.get $x0)
          (f64x2.add (v128.load offset=262144 (local.get $x0))
            (f64x2.add (local.get $d0) (f64x2.mul (local.get $v0) (f64x2.mul (local.get $l00) (local.get $a0))))))
        (v128.store offset=262144 (local.get $x1)
          (f64x2.add (v128.load offset=262144 (local.get $x1))
            (f64x2.add (local.get $d1)
              (f64x2.mul (local.get $v1)
                (f64x2.add (f64x2.mul (local.get $l10) (local.get $a0)) (f64x2.mul (local.get $l11) (local.get $a1)))))))
        (v128.store offset=262144 (local.get $x2)
          (f64x2.add (v128.load offset=262144 (local.get $x2))
            (f64x2.add (local.get $d2)
              (f64x2.mul (local.get $v2)
                (f64x2.add
                  (f64x2.add (f64x2.mul (local.get $l20) (local.get $a0)) (f64x2.mul (local.get $l21) (local.get $a1)))
                  (f64x2.mul (local.get $l22) (local.get $a2)))))))
        (local.set $zp (i32.add (local.get $zp) (i32.const 48)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 16)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 16)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pair)))
    (local.get $p))
)
