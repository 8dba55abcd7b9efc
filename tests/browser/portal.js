// portal.js - the node portal's pages in a real browser (Debian's
// headless Chromium, driven by playwright-core), for
// tests/integration/test_portal_browser.sh, which starts the portal in
// front of a stand-in node loop with synthetic data (portal_stub).
//
// Each role logs in through the form and every page of that role, and
// the public ones, is looked at 1280 and 390 px wide: axe-core finds no
// serious or critical WCAG 2.1 A/AA violation, nothing sticks out
// sideways, and the console shows no script error or CSP violation.
//
// Environment:
//   EN_URL       portal base URL, e.g. http://127.0.0.1:PORT
//   EN_SHOTS     directory for a screenshot of every page (optional)
//   EN_CHROMIUM  browser binary (default /usr/bin/chromium)
'use strict';
const { check, launch, checkAxe, run } = require ('./lib.js');
const path = require ('path');

async function look (page, what, problems, shots) {
    for (const width of [ 1280, 390 ]) {
        await page.setViewportSize ({ width: width, height: 900 });
        await checkAxe (page, what + ' at ' + width + ' px');
        const layout = await page.evaluate (() => [ document.documentElement.scrollWidth, document.documentElement.clientWidth ]);
        check (what + ' at ' + width + ' px: no horizontal overflow', layout [0] <= layout [1], layout.join (' > '));
        if (shots)
            await page.screenshot ({ path: path.join (shots, 'portal' + what.replace (/[^a-z0-9]+/gi, '-').replace (/-$/, '')
                                                      + '-' + width + '.png'), fullPage: true });
    }
    check (what + ': no script errors or CSP violations', problems.length === 0, problems.join (' | '));
    problems.length = 0;
}

async function main () {
    const base = process.env.EN_URL;
    const shots = process.env.EN_SHOTS;
    const browser = await launch ();
    const roles = {
        '': [ '/login', '/herstel', '/toegankelijkheid' ],
        mara: [ '/', '/zaken', '/zaken/nieuw', '/zaken/P-7Q2M4X', '/verzoeken', '/verzoeken/nieuw',
                '/verzoeken/twente-00000001' ],
        eva: [ '/', '/aanbod', '/aanbod/twente-00000001-o1', '/aanbod/twente-00000004-o1', '/aanbod/twente-00000005-o1',
               '/beschikbaarheid' ],
        bob: [ '/', '/beheer/accounts', '/beheer/experts', '/beheer/experts/nieuw', '/beheer/experts/se-tw-01',
               '/beheer/meldingen', '/beheer/privacy',
               '/beheer/logboek?zaak=P-7Q2M4X' ],
    };
    try {
        for (const [ name, pages ] of Object.entries (roles)) {
            const context = await browser.newContext ({ viewport: { width: 1280, height: 900 }, locale: 'nl-NL' });
            const page = await context.newPage ();
            const problems = [];
            page.on ('console', (message) => { if (message.type () === 'error') problems.push (message.text ()); });
            page.on ('pageerror', (error) => problems.push (String (error)));
            if (name) {
                await page.goto (base + '/login');
                await page.fill ('#name', name);
                await page.fill ('#password', name + ' haar wachtwoord');
                const [ response ] = await Promise.all ([ page.waitForNavigation (), page.click ('form button[type=submit]') ]);
                check (name + ' logs in through the form', response.status () === 200 && page.url () === base + '/',
                       response.status () + ' ' + page.url ());
            }
            for (const where of pages) {
                const response = await page.goto (base + where);
                check ((name || 'public') + ' ' + where + ': 200', response.status () === 200, String (response.status ()));
                await look (page, ' ' + (name || 'public') + ' ' + where, problems, shots);
            }
            if (name === 'mara') {
                // A form sent empty: the errors on their fields, accessible too
                await page.goto (base + '/verzoeken/nieuw');
                const [ response ] = await Promise.all ([ page.waitForNavigation (),
                    page.click ('main form button[type=submit]') ]);
                check ('an empty request form comes back with 422', response.status () === 422, String (response.status ()));
                check ('... its fields marked invalid', (await page.locator ('[aria-invalid=true]').count ()) > 0);
                problems.length = 0;        //  the 422 itself is logged by the browser
                await look (page, ' mara request form with errors', problems, shots);
            }
            await context.close ();
        }
    }
    finally {
        await browser.close ();
    }
}

run (main);
