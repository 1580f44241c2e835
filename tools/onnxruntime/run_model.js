// tapegrad/tools/onnxruntime/run_model.js: runs an ONNX model in ONNX Runtime (CPU) on one
// float32 input and writes the first output as raw float32.
//   node run_model.js MODEL.onnx INPUT.bin DIM0,DIM1,... OUTPUT.bin
// Used by tests to check tapegrad's ONNX export against a real runtime.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputPath, dimsText, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: node run_model.js MODEL INPUT DIMS OUTPUT');
  const dims = dimsText.split(',').map(Number);
  const bytes = fs.readFileSync(inputPath);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const results = await session.run(feeds);
  const out = results[session.outputNames[0]];
  fs.writeFileSync(outputPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(`onnxruntime ${ort.env.versions ? JSON.stringify(ort.env.versions) : ''} output dims ${out.dims.join(',')}`);
}

main().catch((e) => {
  console.error(`run_model.js: ${e.message}`);
  process.exit(1);
});
