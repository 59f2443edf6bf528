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
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $a) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
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

  ;; In place on n4·4 floats at $ptr: x ← 0.5·x·(1 + erf(x·√½)), torch's exact GELU in float32. Sixteen floats a
  ;; step, the four vectors' Horner chains interleaved: one chain alone waits on each multiply and add in turn
  ;; (the loop is latency-bound), four keep the SIMD units busy. The same operations in the same order per lane
  ;; as $erf, so the tail (and the standalone kernel) agree bit for bit.
  (func (export "gelu") (param $ptr i32) (param $n4 i32)
    (local $end i32) (local $end16 i32) (local $v v128)
    (local $v0 v128) (local $x0 v128) (local $s0 v128) (local $p0 v128) (local $q0 v128) (local $v1 v128) (local $x1 v128) (local $s1 v128) (local $p1 v128) (local $q1 v128) (local $v2 v128) (local $x2 v128) (local $s2 v128) (local $p2 v128) (local $q2 v128) (local $v3 v128) (local $x3 v128) (local $s3 v128) (local $p3 v128) (local $q3 v128)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n4) (i32.const 4))))
    (local.set $end16 (i32.add (local.get $ptr) (i32.shl (i32.and (local.get $n4) (i32.const -4)) (i32.const 4))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.ge_u (local.get $ptr) (local.get $end16)))
        ;; x_i = clamp(v_i·√½, −4, 4), x2_i = x_i²; then P and Q by Horner, step by step across the 4 vectors
        (local.set $v0 (v128.load offset=0 (local.get $ptr)))
        (local.set $v1 (v128.load offset=16 (local.get $ptr)))
        (local.set $v2 (v128.load offset=32 (local.get $ptr)))
        (local.set $v3 (v128.load offset=48 (local.get $ptr)))
        (local.set $x0 (f32x4.pmin (f32x4.pmax (f32x4.mul (local.get $v0) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
        (local.set $x1 (f32x4.pmin (f32x4.pmax (f32x4.mul (local.get $v1) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
        (local.set $x2 (f32x4.pmin (f32x4.pmax (f32x4.mul (local.get $v2) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
        (local.set $x3 (f32x4.pmin (f32x4.pmax (f32x4.mul (local.get $v3) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)) (v128.const f32x4 -4 -4 -4 -4)) (v128.const f32x4 4 4 4 4)))
        (local.set $s0 (f32x4.mul (local.get $x0) (local.get $x0)))
        (local.set $s1 (f32x4.mul (local.get $x1) (local.get $x1)))
        (local.set $s2 (f32x4.mul (local.get $x2) (local.get $x2)))
        (local.set $s3 (f32x4.mul (local.get $x3) (local.get $x3)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10)) (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10)) (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10)) (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10)) (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05)) (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05)) (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05)) (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05)) (v128.const f32x4 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04 -2.13374055278905e-04)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $q0)) (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $q1)) (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $q2)) (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $q3)) (v128.const f32x4 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03 -1.68282697438203e-03)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $q0)) (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $q1)) (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $q2)) (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $q3)) (v128.const f32x4 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03 -7.37332916720468e-03)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04 -7.34990630326855e-04)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $q0)) (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $q1)) (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $q2)) (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $q3)) (v128.const f32x4 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02 -1.42647390514189e-02)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03 -2.95459980854025e-03)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02 -1.60960333262415e-02)))
        (v128.store offset=0 (local.get $ptr)
          (f32x4.mul (f32x4.mul (local.get $v0) (v128.const f32x4 0.5 0.5 0.5 0.5))
                     (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.div (f32x4.mul (local.get $x0) (local.get $p0)) (local.get $q0)))))
        (v128.store offset=16 (local.get $ptr)
          (f32x4.mul (f32x4.mul (local.get $v1) (v128.const f32x4 0.5 0.5 0.5 0.5))
                     (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.div (f32x4.mul (local.get $x1) (local.get $p1)) (local.get $q1)))))
        (v128.store offset=32 (local.get $ptr)
          (f32x4.mul (f32x4.mul (local.get $v2) (v128.const f32x4 0.5 0.5 0.5 0.5))
                     (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.div (f32x4.mul (local.get $x2) (local.get $p2)) (local.get $q2)))))
        (v128.store offset=48 (local.get $ptr)
          (f32x4.mul (f32x4.mul (local.get $v3) (v128.const f32x4 0.5 0.5 0.5 0.5))
                     (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.div (f32x4.mul (local.get $x3) (local.get $p3)) (local.get $q3)))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 64)))
        (br $next16)))
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

  ;; out[i][k][j] = in[i][j][k] for rows of d4·4 floats: [n0, n1, n2, d] → [n0, n2, n1, d], the attention's head
  ;; split and merge (a transpose that keeps the last axis: each row is one contiguous copy).
  (func (export "swap_middle_axes") (param $src i32) (param $dst i32) (param $n0 i32) (param $n1 i32) (param $n2 i32)
        (param $d4 i32)
    (local $row i32) (local $i i32) (local $j i32) (local $k i32) (local $from i32) (local $to i32) (local $b i32)
    (local.set $row (i32.shl (local.get $d4) (i32.const 4)))
    (local.set $to (local.get $dst))
    (local.set $i (i32.const 0))
    (block $di
      (loop $li
        (br_if $di (i32.ge_u (local.get $i) (local.get $n0)))
        (local.set $k (i32.const 0))
        (block $dk
          (loop $lk
            (br_if $dk (i32.ge_u (local.get $k) (local.get $n2)))
            ;; in[i][0][k]: then step over n2 rows per j
            (local.set $from (i32.add (local.get $src)
              (i32.mul (i32.add (i32.mul (i32.mul (local.get $i) (local.get $n1)) (local.get $n2)) (local.get $k)) (local.get $row))))
            (local.set $j (i32.const 0))
            (block $dj
              (loop $lj
                (br_if $dj (i32.ge_u (local.get $j) (local.get $n1)))
                (local.set $b (i32.const 0))
                (block $db
                  (loop $lb
                    (br_if $db (i32.ge_u (local.get $b) (local.get $row)))
                    (v128.store (i32.add (local.get $to) (local.get $b)) (v128.load (i32.add (local.get $from) (local.get $b))))
                    (local.set $b (i32.add (local.get $b) (i32.const 16)))
                    (br $lb)))
                (local.set $to (i32.add (local.get $to) (local.get $row)))
                (local.set $from (i32.add (local.get $from) (i32.mul (local.get $n2) (local.get $row))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $lj)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $lk)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li))))

  ;; exp(x) for four floats x ≤ 0 (scores less their row's maximum): Cephes' expf, x = n·ln2 + r with n an integer
  ;; and |r| ≤ ln2/2 (ln2 in two parts, so r is exact), e^r by its degree-7 polynomial, times 2^n built in the
  ;; exponent bits. n comes from adding 1.5·2^23, which rounds x·log2(e) to an integer in the low mantissa bits
  ;; (no float → int conversion). Below −87.3 (e^x under float32's smallest normal, −∞ included) the answer is 0;
  ;; NaN stays NaN.
  (func $exp_neg (param $x v128) (result v128)
    (local $big v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $big (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n (f32x4.sub (local.get $big) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
                             (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (local.get $p)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (local.get $p)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (local.get $p)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (local.get $p)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $p)) (local.get $r))
                             (v128.const f32x4 1 1 1 1)))
    ;; p·2^n, 2^n's bits being (n + 127) << 23 and n + 0x4b400000 the bits of $big; lanes below the cut (where n
    ;; would leave the exponent's range) cleared. NaN fails the compare, and stays.
    (v128.andnot
      (f32x4.mul (local.get $p)
                 (i32x4.shl (i32x4.sub (local.get $big) (v128.const i32x4 0x4b3fff81 0x4b3fff81 0x4b3fff81 0x4b3fff81)) (i32.const 23)))
      (f32x4.lt (local.get $x) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654))))

  ;; $exp_neg of four vectors at once, their chains interleaved step by step (one chain alone waits on each
  ;; multiply and add in turn), the same operations per lane, so the same bits.
  (func $exp_neg4 (param $x0 v128) (param $x1 v128) (param $x2 v128) (param $x3 v128) (result v128 v128 v128 v128)
    (local $big0 v128) (local $n0 v128) (local $r0 v128) (local $p0 v128) (local $big1 v128) (local $n1 v128) (local $r1 v128) (local $p1 v128) (local $big2 v128) (local $n2 v128) (local $r2 v128) (local $p2 v128) (local $big3 v128) (local $n3 v128) (local $r3 v128) (local $p3 v128)
    (local.set $big0 (f32x4.add (f32x4.mul (local.get $x0) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $big1 (f32x4.add (f32x4.mul (local.get $x1) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $big2 (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $big3 (f32x4.add (f32x4.mul (local.get $x3) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n0 (f32x4.sub (local.get $big0) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n1 (f32x4.sub (local.get $big1) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n2 (f32x4.sub (local.get $big2) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n3 (f32x4.sub (local.get $big3) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r0 (f32x4.sub (f32x4.sub (local.get $x0) (f32x4.mul (local.get $n0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $r1 (f32x4.sub (f32x4.sub (local.get $x1) (f32x4.mul (local.get $n1) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n1) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $r2 (f32x4.sub (f32x4.sub (local.get $x2) (f32x4.mul (local.get $n2) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n2) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $r3 (f32x4.sub (f32x4.sub (local.get $x3) (f32x4.mul (local.get $n3) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n3) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p0 (f32x4.add (f32x4.mul (local.get $r0) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p1 (f32x4.add (f32x4.mul (local.get $r1) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p2 (f32x4.add (f32x4.mul (local.get $r2) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p3 (f32x4.add (f32x4.mul (local.get $r3) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p0 (f32x4.add (f32x4.mul (local.get $r0) (local.get $p0)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p1 (f32x4.add (f32x4.mul (local.get $r1) (local.get $p1)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p2 (f32x4.add (f32x4.mul (local.get $r2) (local.get $p2)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p3 (f32x4.add (f32x4.mul (local.get $r3) (local.get $p3)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p0 (f32x4.add (f32x4.mul (local.get $r0) (local.get $p0)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p1 (f32x4.add (f32x4.mul (local.get $r1) (local.get $p1)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p2 (f32x4.add (f32x4.mul (local.get $r2) (local.get $p2)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p3 (f32x4.add (f32x4.mul (local.get $r3) (local.get $p3)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p0 (f32x4.add (f32x4.mul (local.get $r0) (local.get $p0)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p1 (f32x4.add (f32x4.mul (local.get $r1) (local.get $p1)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p2 (f32x4.add (f32x4.mul (local.get $r2) (local.get $p2)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p3 (f32x4.add (f32x4.mul (local.get $r3) (local.get $p3)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p0 (f32x4.add (f32x4.mul (local.get $r0) (local.get $p0)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p1 (f32x4.add (f32x4.mul (local.get $r1) (local.get $p1)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p2 (f32x4.add (f32x4.mul (local.get $r2) (local.get $p2)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p3 (f32x4.add (f32x4.mul (local.get $r3) (local.get $p3)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p0 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r0) (local.get $r0)) (local.get $p0)) (local.get $r0)) (v128.const f32x4 1 1 1 1)))
    (local.set $p1 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r1) (local.get $r1)) (local.get $p1)) (local.get $r1)) (v128.const f32x4 1 1 1 1)))
    (local.set $p2 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r2) (local.get $r2)) (local.get $p2)) (local.get $r2)) (v128.const f32x4 1 1 1 1)))
    (local.set $p3 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r3) (local.get $r3)) (local.get $p3)) (local.get $r3)) (v128.const f32x4 1 1 1 1)))
    (v128.andnot (f32x4.mul (local.get $p0) (i32x4.shl (i32x4.sub (local.get $big0) (v128.const i32x4 0x4b3fff81 0x4b3fff81 0x4b3fff81 0x4b3fff81)) (i32.const 23)))
                 (f32x4.lt (local.get $x0) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
    (v128.andnot (f32x4.mul (local.get $p1) (i32x4.shl (i32x4.sub (local.get $big1) (v128.const i32x4 0x4b3fff81 0x4b3fff81 0x4b3fff81 0x4b3fff81)) (i32.const 23)))
                 (f32x4.lt (local.get $x1) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
    (v128.andnot (f32x4.mul (local.get $p2) (i32x4.shl (i32x4.sub (local.get $big2) (v128.const i32x4 0x4b3fff81 0x4b3fff81 0x4b3fff81 0x4b3fff81)) (i32.const 23)))
                 (f32x4.lt (local.get $x2) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
    (v128.andnot (f32x4.mul (local.get $p3) (i32x4.shl (i32x4.sub (local.get $big3) (v128.const i32x4 0x4b3fff81 0x4b3fff81 0x4b3fff81 0x4b3fff81)) (i32.const 23)))
                 (f32x4.lt (local.get $x3) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654))))

  ;; Attention probabilities in place: for each of `rows` rows of n4·4 floats at $s (row stride n4·4 floats),
  ;; s ← softmax(s + mask) over the row, mask being n4·4 floats at $mask (−∞ in lanes past the row's true
  ;; length, which then come out 0). As torch's softmax: the maximum, e = exp(v − max) and their sum (float32, by
  ;; lane, the lanes added last), then e · (1 / sum).
  (func (export "softmax_rows") (param $s i32) (param $mask i32) (param $rows i32) (param $n4 i32)
    (local $bytes i32) (local $i i32) (local $v v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $m v128)
    (local $acc v128) (local $max f32) (local $inv f32)
    (local.set $bytes (i32.shl (local.get $n4) (i32.const 4)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.eqz (local.get $rows)))
        ;; v = s + mask, stored; the row's maximum
        (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $i (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $v (f32x4.add (v128.load (i32.add (local.get $s) (local.get $i)))
                                     (v128.load (i32.add (local.get $mask) (local.get $i)))))
            (v128.store (i32.add (local.get $s) (local.get $i)) (local.get $v))
            (local.set $m (f32x4.pmax (local.get $m) (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l1)))
        (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                                 (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
        (local.set $m (f32x4.splat (local.get $max)))
        ;; e = exp(v − max), stored; their sum: four vectors a step, then one
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $d4
          (loop $l4
            (br_if $d4 (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $bytes)))
            (call $exp_neg4
              (f32x4.sub (v128.load offset=0 (i32.add (local.get $s) (local.get $i))) (local.get $m))
              (f32x4.sub (v128.load offset=16 (i32.add (local.get $s) (local.get $i))) (local.get $m))
              (f32x4.sub (v128.load offset=32 (i32.add (local.get $s) (local.get $i))) (local.get $m))
              (f32x4.sub (v128.load offset=48 (i32.add (local.get $s) (local.get $i))) (local.get $m)))
            (local.set $e3) (local.set $e2) (local.set $e1) (local.set $v)
            (v128.store offset=0 (i32.add (local.get $s) (local.get $i)) (local.get $v))
            (v128.store offset=16 (i32.add (local.get $s) (local.get $i)) (local.get $e1))
            (v128.store offset=32 (i32.add (local.get $s) (local.get $i)) (local.get $e2))
            (v128.store offset=48 (i32.add (local.get $s) (local.get $i)) (local.get $e3))
            (local.set $acc (f32x4.add (f32x4.add (local.get $acc) (local.get $v)) (f32x4.add (f32x4.add (local.get $e1) (local.get $e2)) (local.get $e3))))
            (local.set $i (i32.add (local.get $i) (i32.const 64)))
            (br $l4)))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $v (call $exp_neg (f32x4.sub (v128.load (i32.add (local.get $s) (local.get $i))) (local.get $m))))
            (v128.store (i32.add (local.get $s) (local.get $i)) (local.get $v))
            (local.set $acc (f32x4.add (local.get $acc) (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l2)))
        (local.set $inv (f32.div (f32.const 1)
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                   (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
        (local.set $m (f32x4.splat (local.get $inv)))
        (local.set $i (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $i) (local.get $bytes)))
            (v128.store (i32.add (local.get $s) (local.get $i))
                        (f32x4.mul (v128.load (i32.add (local.get $s) (local.get $i))) (local.get $m)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $l3)))
        (local.set $s (i32.add (local.get $s) (local.get $bytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
