// Renders public/icon.svg into the PNG icons the web app manifest and iOS need, with
// Debian's Chromium (run once after changing the SVG: node scripts/make-icons.cjs).
// Maskable and Apple icons are full-bleed: the platform cuts its own shape, so the mark
// sits inside the central 80 % safe zone.
const fs = require('fs');
const path = require('path');
const { chromium } = require('../end2end/node_modules/@playwright/test');

const publicDir = path.join(__dirname, '..', 'public');
const svg = fs.readFileSync(path.join(publicDir, 'icon.svg'), 'utf8');
const mark = svg.replace(/^[\s\S]*?<rect[^>]*\/>/, '').replace(/<\/svg>\s*$/, '');
const fullBleed = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" fill="#0f766e"/>
  <g transform="translate(256 256) scale(0.8) translate(-256 -256)">${mark}</g>
</svg>`;

const icons = [
  { file: 'icon-192.png', size: 192, source: svg },
  { file: 'icon-512.png', size: 512, source: svg },
  { file: 'icon-maskable-512.png', size: 512, source: fullBleed },
  { file: 'apple-touch-icon.png', size: 180, source: fullBleed },
];

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  for (const { file, size, source } of icons) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${source}`);
    await page.screenshot({ path: path.join(publicDir, file), omitBackground: true });
    console.log(`public/${file}`);
  }
  await browser.close();
})();
