;; Elementwise kernels for the wasm backend when its matmuls run on a BLAS (src/backend/blas/wasm-simd.ts).
;; The module imports tfjs-backend-wasm's own memory, so it works on tensors where tfjs keeps them: every
;; pointer is a tensor's byte offset on that heap. SIMD, four floats at a time. Assembled into
;; kernels-wasm.ts by `npm run build:wasm` (a test checks that the two agree).
(module
  (import "env" "memory" (memory 0))

  ;; erf(x) for four floats: Eigen's and XLA's float32 rational approximation x·P(x²)/Q(x²), x clamped to
  ;; [-4, 4] (beyond it erf is ±1 in float32); NaN stays NaN.
  (func $erf (param $a v128) (result v128)
    (local $x v128) (local $x2 v128) (local $p v128) (local $q v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $a) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
    (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10))
                             (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (local.get $p))
                             (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (local.get $p))
                             (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (local.get $p))
                             (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (local.get $p))
                             (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $x2) (local.get $p))
                             (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05))
                             (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $x2) (local.get $q))
                             (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $x2) (local.get $q))
                             (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $x2) (local.get $q))
                             (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02)))
    (f32x4.div (f32x4.mul (local.get $x) (local.get $p)) (local.get $q)))

  ;; In place on n4·4 floats at $ptr: x ← 0.5·x·(1 + erf(x·√½)), torch's exact GELU in float32.
  (func (export "gelu") (param $ptr i32) (param $n4 i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n4) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $v (v128.load (local.get $ptr)))
        (v128.store (local.get $ptr)
          (f32x4.mul (f32x4.mul (local.get $v) (v128.const f32x4 0.5 0.5 0.5 0.5))
                     (f32x4.add (v128.const f32x4 1 1 1 1)
                                (call $erf (f32x4.mul (local.get $v) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476))))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $next))))

  ;; The sum of both lanes of a (v as two f64x2 halves) added to acc.
  (func $add_f64 (param $acc v128) (param $v v128) (result v128)
    (f64x2.add (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (local.get $v)))
               (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))

  (func $hsum (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; rows of h4·4 floats: out = LayerNorm(x + res) with weight w and bias b (res = 0: no residual), and the sum
  ;; itself into $sum unless it is 0. The sum is rounded to float32 (torch adds the residual as its own tensor);
  ;; mean and biased variance accumulate in float64; then (v − mean) · rstd · w + b in float32.
  (func (export "layer_norm") (param $x i32) (param $res i32) (param $w i32) (param $b i32) (param $out i32)
        (param $sum i32) (param $rows i32) (param $h4 i32) (param $eps f64)
    (local $bytes i32) (local $i i32) (local $v v128) (local $acc v128) (local $mean f64) (local $rstd f64)
    (local $m4 v128) (local $r4 v128) (local $c v128) (local $h f64)
    (local.set $bytes (i32.shl (local.get $h4) (i32.const 4)))
    (local.set $h (f64.convert_i32_u (i32.shl (local.get $h4) (i32.const 2))))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.eqz (local.get $rows)))
        ;; v = x (+ res), stored to out; its sum
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
            (if (local.get $res)
              (then (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $res) (local.get $i)))))))
            (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $v))
            (if (local.get $sum) (then (v128.store (i32.add (local.get $sum) (local.get $i)) (local.get $v))))
            (local.set $acc (call $add_f64 (local.get $acc) (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l1)))
        (local.set $mean (f64.div (call $hsum (local.get $acc)) (local.get $h)))
        ;; the biased variance, from the centred values
        (local.set $m4 (f32x4.splat (f32.demote_f64 (local.get $mean))))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $v (v128.load (i32.add (local.get $out) (local.get $i))))
            (local.set $c (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.splat (local.get $mean))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $c) (local.get $c))))
            (local.set $c (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                                     (f64x2.splat (local.get $mean))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $c) (local.get $c))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l2)))
        (local.set $rstd (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div (call $hsum (local.get $acc)) (local.get $h)) (local.get $eps)))))
        (local.set $r4 (f32x4.splat (f32.demote_f64 (local.get $rstd))))
        ;; normalise, scale, shift
        (local.set $i (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $i) (local.get $bytes)))
            (v128.store (i32.add (local.get $out) (local.get $i))
              (f32x4.add
                (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $out) (local.get $i))) (local.get $m4)) (local.get $r4))
                           (v128.load (i32.add (local.get $w) (local.get $i))))
                (v128.load (i32.add (local.get $b) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l3)))
        (local.set $x (i32.add (local.get $x) (local.get $bytes)))
        (if (local.get $res) (then (local.set $res (i32.add (local.get $res) (local.get $bytes)))))
        (if (local.get $sum) (then (local.set $sum (i32.add (local.get $sum) (local.get $bytes)))))
        (local.set $out (i32.add (local.get $out) (local.get $bytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
