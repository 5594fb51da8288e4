import { startLoopbackVendor } from '../test/support/loopbackVendor.js';
const v = await startLoopbackVendor({ latencyMs: 100, perMinute: 1000 });
console.log(v.url);
setTimeout(() => v.close(), 120000);
