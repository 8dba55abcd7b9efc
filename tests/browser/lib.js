// lib.js - what the browser tests share: TAP-like checks, the browser
// (Debian's chromium through playwright-core) and axe-core.
'use strict';
const { chromium } = require ('playwright-core');
const axe = require ('axe-core');

let failures = 0;

// Prints "ok - ..." or "not ok - ... (detail)", as tests/integration/lib.sh
function check (what, condition, detail) {
    if (condition)
        console.log ('ok - ' + what);
    else {
        failures++;
        console.log ('not ok - ' + what + (detail ? ' (' + detail + ')' : ''));
    }
}

// Headless chromium (EN_CHROMIUM, default /usr/bin/chromium)
function launch () {
    return chromium.launch ({
        executablePath: process.env.EN_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: [ '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run',
                '--disable-dev-shm-usage' ],
    });
}

// axe-core on the page as it is: no serious or critical WCAG 2.1 A/AA
// violation (run through the DevTools protocol, so the page's CSP stays)
async function checkAxe (page, what) {
    await page.evaluate (axe.source);
    const result = await page.evaluate (() => window.axe.run (document, {
        runOnly: { type: 'tag', values: [ 'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa' ] } }));
    const bad = result.violations.filter ((v) => v.impact === 'serious' || v.impact === 'critical');
    check (what + ': no serious or critical axe-core violation', bad.length === 0,
           bad.map ((v) => v.id + ' (' + v.nodes.length + 'x: '
                           + v.nodes.slice (0, 2).map ((n) => n.target.join (' ')).join (', ') + ')').join ('; '));
}

// Run main, exit 0 only when every check passed
function run (main) {
    main ().then (() => process.exit (failures ? 1 : 0), (error) => {
        console.log ('not ok - browser test crashed: ' + (error && error.stack || error));
        process.exit (1);
    });
}

module.exports = { check, launch, checkAxe, run };
