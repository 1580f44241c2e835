// tapegrad/tools/onnxruntime/run_model.js: runs ONNX models in ONNX Runtime (CPU), each on one
// float32 input (int64 with dims written int64:DIM0,...), and writes each model's first output as
// its raw bytes (float32 for the tests' models). Several models in one call share one Node.js start-up:
//   node run_model.js MODEL.onnx INPUT.bin DIM0,DIM1,... OUTPUT.bin [MODEL2 INPUT2 DIMS2 OUTPUT2 ...]
//   node run_model.js --manifest=FILE       (the same quadruples, one per line, for many models)
// Used by tests to check tapegrad's ONNX export against a real runtime.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function runOne(modelPath, inputPath, dimsText, outputPath) {
  const int64 = dimsText.startsWith('int64:');
  const dims = dimsText.slice(int64 ? 'int64:'.length : 0).split(',').filter((d) => d !== '').map(Number);
  // A copy: typed arrays need their element size's alignment, which a file buffer may lack.
  const bytes = new Uint8Array(fs.readFileSync(inputPath)).buffer;
  const data = int64 ? new BigInt64Array(bytes) : new Float32Array(bytes);
  // One small thread pool per session, released after its run: a test runs a hundred models in
  // one process (each session's default pools exhausted Bazel's sandbox: node crashed).
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor(int64 ? 'int64' : 'float32', data, dims) };
  const results = await session.run(feeds);
  const out = results[session.outputNames[0]];
  await session.release();
  fs.writeFileSync(outputPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(`${modelPath}: onnxruntime ${ort.env.versions ? JSON.stringify(ort.env.versions) : ''} ` +
              `output ${out.type} dims ${out.dims.join(',')}`);
}

async function main() {
  let args = process.argv.slice(2);
  if (args.length === 1 && args[0].startsWith('--manifest=')) {
    args = fs.readFileSync(args[0].slice('--manifest='.length), 'utf8').split(/\s+/).filter((a) => a !== '');
  }
  if (args.length === 0 || args.length % 4 !== 0) {
    throw new Error('usage: node run_model.js MODEL INPUT DIMS OUTPUT [MODEL INPUT DIMS OUTPUT ...]');
  }
  for (let i = 0; i < args.length; i += 4) {
    try {
      await runOne(args[i], args[i + 1], args[i + 2], args[i + 3]);
    } catch (e) {
      throw new Error(`${args[i]}: ${e.message}`);
    }
  }
}

main().catch((e) => {
  console.error(`run_model.js: ${e.message}`);
  process.exit(1);
});
