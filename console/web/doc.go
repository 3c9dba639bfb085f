// Package web is the console's browser UI: static files (index.html,
// app.js as a plain ES module, style.css) embedded in the binary and served
// by the console at "/" and "/ui/". It polls the REST API every 5 s; it has
// no framework and no build step.
//
// Vendored: uPlot 1.6.32 (MIT, static/uPlot.LICENSE), the files
// dist/uPlot.iife.min.js and dist/uPlot.min.css of the npm package
// uplot@1.6.32, unchanged.
package web
