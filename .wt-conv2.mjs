import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { activateWasm } from '/work/main/dist/runtime/backends/wasm.js';
function threadTimes() {
  const out = {};
  for (const t of fs.readdirSync('/proc/self/task')) {
    const stat = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    out[t] = { name, ms: (Number(f[11]) + Number(f[12])) * 10 };
  }
  return out;
}
await activateWasm();
const wasm = await import('@tensorflow/tfjs-backend-wasm');
const x = tf.randomNormal([8,128,128,32],0,1,'float32',1), w = tf.randomNormal([3,3,32,32],0,0.1,'float32',2);
tf.conv2d(x,w,1,'same').dispose();
const before = threadTimes(); const c0 = process.cpuUsage(); const s = performance.now();
let y; for (let i=0;i<10;i++){ y?.dispose(); y = tf.conv2d(x,w,1,'same'); }
y.dataSync();
const wall = performance.now()-s; const cpu = process.cpuUsage(c0); const after = threadTimes();
console.log('threads', wasm.getThreadsCount(), '10 convs wall ms', wall.toFixed(0), 'cpu ms', ((cpu.user+cpu.system)/1000).toFixed(0));
for (const [t, v] of Object.entries(after)) { const d = v.ms - (before[t]?.ms ?? 0); if (d > 0) console.log('  thread', t, v.name, d, 'ms'); }
