// Re-save or fill xlperf returns with the JavaScript clients ExcelJS and SheetJS, as web collectors do.
//
// The npm packages are not part of the repository: install them in a scratch folder
// (`npm i exceljs xlsx` in /tmp/xlperf-node) and point XLPERF_NODE_MODULES at its node_modules.
//
//   node client_resave.js exceljs-resave IN_DIR OUT_DIR   read each .xlsx, write it back unchanged
//   node client_resave.js sheetjs-resave IN_DIR OUT_DIR   same with SheetJS (XLSX.readFile / writeFile)
//   node client_resave.js exceljs-fill JOBS.json          [{template, out, sheet, cells: {B7: 25}}]:
//       type the values into the UNLOCKED cells of a blank template (locked ones are refused)
//   node client_resave.js versions                         {"exceljs": "x.y.z", "xlsx": "x.y.z"}
// Prints one JSON line on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const modules = process.env.XLPERF_NODE_MODULES || '/tmp/xlperf-node/node_modules';
const requireFrom = createRequire(path.join(path.resolve(modules), '..', 'noop.js'));

function xlsxFiles(dir) {
  return fs.readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.xlsx')).sort();
}

async function exceljsResave(inDir, outDir) {
  const ExcelJS = requireFrom('exceljs');
  fs.mkdirSync(outDir, { recursive: true });
  const saved = [];
  for (const name of xlsxFiles(inDir)) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path.join(inDir, name));
    await wb.xlsx.writeFile(path.join(outDir, name));
    saved.push(name);
  }
  return { saved };
}

function sheetjsResave(inDir, outDir) {
  const XLSX = requireFrom('xlsx');
  fs.mkdirSync(outDir, { recursive: true });
  const saved = [];
  for (const name of xlsxFiles(inDir)) {
    // the library defaults, as most web collectors call it
    const wb = XLSX.readFile(path.join(inDir, name));
    XLSX.writeFile(wb, path.join(outDir, name));
    saved.push(name);
  }
  return { saved };
}

function isUnlocked(cell) {
  // OOXML default: a cell is locked unless its style says locked="0"
  const p = cell.style && cell.style.protection;
  return Boolean(p && p.locked === false);
}

async function exceljsFill(jobsPath) {
  const ExcelJS = requireFrom('exceljs');
  const jobs = JSON.parse(fs.readFileSync(jobsPath, 'utf8'));
  const out = [];
  for (const job of jobs) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(job.template);
    const ws = wb.getWorksheet(job.sheet);
    const refused = [];
    for (const [ref, value] of Object.entries(job.cells)) {
      const cell = ws.getCell(ref);
      if (!isUnlocked(cell)) {
        refused.push(ref);
        continue;
      }
      cell.value = value;
    }
    fs.mkdirSync(path.dirname(job.out), { recursive: true });
    await wb.xlsx.writeFile(job.out);
    out.push({ out: job.out, refused });
  }
  return { filled: out };
}

function versions() {
  const v = (name) => JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version;
  return { exceljs: v('exceljs'), xlsx: v('xlsx'), node: process.versions.node };
}

async function main() {
  const [cmd, a, b] = process.argv.slice(2);
  let doc;
  if (cmd === 'exceljs-resave') doc = await exceljsResave(a, b);
  else if (cmd === 'sheetjs-resave') doc = sheetjsResave(a, b);
  else if (cmd === 'exceljs-fill') doc = await exceljsFill(a);
  else if (cmd === 'versions') doc = versions();
  else throw new Error(`unknown command ${cmd}`);
  process.stdout.write(JSON.stringify({ ok: true, ...doc }) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.stack || err) }) + '\n');
  process.exit(2);
});
