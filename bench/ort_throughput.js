// tapegrad/bench/ort_throughput.js: bench/onnx_model_throughput.cc in ONNX Runtime (npm
// onnxruntime-node, CPU, intra-op threads as given, inter-op 1): batch 1 latency and batch 64
// throughput on zeros (float) or token 1 (int64), printing the same two lines.
//   node bench/ort_throughput.js MODEL.onnx SAMPLE_SHAPE THREADS [LATENCY_RUNS THROUGHPUT_RUNS BATCH]
'use strict';
const ort = require(require('path').resolve(__dirname, '../tools/onnxruntime/node_modules/onnxruntime-node'));

function input(session, dtype, sample, batch) {
  const dims = [batch, ...sample];
  const n = dims.reduce((a, b) => a * b, 1);
  const data = dtype === 'int64' ? new BigInt64Array(n).fill(1n) : new Float32Array(n);
  return { [session.inputNames[0]]: new ort.Tensor(dtype, data, dims) };
}

async function medianMs(f, runs) {
  const ms = [];
  for (let i = 0; i < runs; ++i) {
    const t = process.hrtime.bigint();
    await f();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

async function main() {
  const [model, shapeText, threads, latencyRuns = '50', throughputRuns = '5', batchText = '64'] = process.argv.slice(2);
  const sample = shapeText.split(',').filter((d) => d !== '').map(Number);
  const batch = Number(batchText);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  // The model's input type: int64 token ids or float32 images.
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const dtype = meta && meta.type ? meta.type : (model.includes('resnet') ? 'float32' : 'int64');
  const one = input(session, dtype, sample, 1), many = input(session, dtype, sample, batch);
  for (let i = 0; i < 5; ++i) await session.run(one);
  await session.run(many);
  const latency = await medianMs(() => session.run(one), Number(latencyRuns));
  const batchMs = await medianMs(() => session.run(many), Number(throughputRuns));
  console.log(`latency_ms ${latency.toFixed(3)}\nthroughput_per_s ${(batch * 1000 / batchMs).toFixed(1)}`);
  await session.release();
}

main().catch((e) => { console.error(e); process.exit(1); });
