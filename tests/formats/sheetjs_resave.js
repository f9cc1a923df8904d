// Recipe for tests/formats/sheetjs_resaved.xlsx: read a demo return with SheetJS and write it back, as a web
// collector built on SheetJS does. Run from a folder where `npm i xlsx` was done:
//   NODE_PATH=<that folder>/node_modules node tests/formats/sheetjs_resave.js <demo return.xlsx> tests/formats/sheetjs_resaved.xlsx
// Re-run it when the template version changes.
const XLSX = require("xlsx");
const [src, dst] = process.argv.slice(2);
const wb = XLSX.readFile(src, {cellStyles: true, cellFormula: true});
XLSX.writeFile(wb, dst, {bookType: "xlsx"});
