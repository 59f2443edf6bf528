import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm'); await tf.ready();
const res = {};
function time(name, f, reps=10) {
  let r = f(); tf.dispose(r);
  const c0 = process.cpuUsage();
  for (let i=0;i<reps;i++){ r = f(); tf.dispose(r); }
  const c = process.cpuUsage(c0); (res[name] ??= []).push(((c.user+c.system)/1000/reps));
}
const B=32,L=12,H=768,N=B*L, I=3072;
const x = tf.randomNormal([N,H]);
const wi = tf.randomNormal([H,I]); const bi = tf.randomNormal([I]); const wo = tf.randomNormal([I,H]); const bo = tf.randomNormal([H]);
const u = tf.randomNormal([N,I]);
const ch = (k) => ({ wi: Array.from({length:k},()=>tf.randomNormal([H,I/k])), bi: Array.from({length:k},()=>tf.randomNormal([I/k])), wo: Array.from({length:k},()=>tf.randomNormal([I/k,H])), u: Array.from({length:k},()=>tf.randomNormal([N,I/k])) });
const c2 = ch(2), c4 = ch(4), c8 = ch(8);
const wh = tf.randomNormal([H,H]), bh = tf.randomNormal([H]);
const xs = [64,128,256,512,1024].map(n=>tf.randomNormal([n,H]));
for (let rep=0; rep<3; rep++) {
time('ffn in 1x3072', ()=>tf.fused.matMul({a:x,b:wi,bias:bi}));
for (const [k,c] of [[2,c2],[4,c4],[8,c8]]) time(`ffn in ${k}x${I/k}`, ()=>c.wi.map((w,i)=>tf.fused.matMul({a:x,b:w,bias:c.bi[i]})));
time('ffn out 3072', ()=>tf.fused.matMul({a:u,b:wo,bias:bo}));
for (const [k,c] of [[2,c2],[4,c4],[8,c8]]) time(`ffn out ${k}x${I/k}+adds`, ()=>tf.tidy(()=>c.wo.reduce((acc,w,i)=>{const y=tf.matMul(c.u[i],w); return acc?tf.add(acc,y):y;}, null)));
time('HxH N=384', ()=>tf.fused.matMul({a:x,b:wh,bias:bh}));
for (const xx of xs) time(`HxH N=${xx.shape[0]}`, ()=>tf.fused.matMul({a:xx,b:wh,bias:bh}));
}
for (const [k,v] of Object.entries(res)) {
  const m = Math.min(...v); let fl=0;
  if (k.startsWith('ffn')) fl = 2*N*H*I; else { const n = +k.split('=')[1]; fl = 2*n*H*H; }
  console.log(k.padEnd(22), v.map(t=>t.toFixed(2)).join('  '), 'ms CPU', (fl/m/1e6).toFixed(1), 'GFLOP/s');
}
