// dashboard.js - the broker's dashboard in a real browser (Debian's
// headless Chromium, driven by playwright-core), for
// tests/integration/test_browser.sh, which starts the network first.
//
// Environment:
//   EN_URL         dashboard base URL, e.g. http://127.0.0.1:PORT
//   EN_NAME        operator name;  EN_PASSWORD its password
//   EN_SUBMIT      shell command that submits a request at a node and
//                  prints its JSON ({"id": ...}); run while the page is open
//   EN_SCREENSHOT  where to save the overview screenshot (PNG)
//   EN_CHROMIUM    browser binary (default /usr/bin/chromium)
//   EN_SHOTS       directory for a screenshot of every page at 1280 and
//                  390 px (optional)
//
// Prints "ok - ..." / "not ok - ..." lines like tests/integration/lib.sh;
// exits 0 only when every check passed.
'use strict';
const { check, launch, checkAxe, run } = require ('./lib.js');
const { execSync } = require ('child_process');
const path = require ('path');

async function main () {
    const base = process.env.EN_URL;
    const browser = await launch ();
    try {
        // A laptop screen
        const context = await browser.newContext ({ viewport: { width: 1440, height: 900 }, locale: 'nl-NL' });
        const page = await context.newPage ();
        const problems = [];
        page.on ('console', (message) => {
            if (message.type () === 'error')
                problems.push (message.text ());
        });
        page.on ('pageerror', (error) => problems.push (String (error)));

        // Not logged in: the overview answers 401 with the login form, no data
        let response = await page.goto (base + '/');
        check ('unauthenticated page gets 401', response.status () === 401, 'status ' + response.status ());
        check ('unauthenticated page shows the login form',
               await page.locator ('form.login-box input[name=password]').count () === 1);
        check ('unauthenticated page shows no data',
               await page.locator ('#open-requests, #offers, #nodes').count () === 0);

        // A wrong password is refused with a message in Dutch
        await page.fill ('#name', process.env.EN_NAME);
        await page.fill ('#password', 'not-the-password');
        [response] = await Promise.all ([ page.waitForNavigation (), page.click ('form.login-box button') ]);
        check ('wrong password: 401 and the login form again', response.status () === 401, 'status ' + response.status () + ' ' + page.url ());
        check ('wrong password: message shown', (await page.locator ('.alert').innerText ()).includes ('Onjuiste'));

        // Log in through the form
        await page.fill ('#name', process.env.EN_NAME);
        await page.fill ('#password', process.env.EN_PASSWORD);
        [response] = await Promise.all ([ page.waitForNavigation (), page.click ('form.login-box button') ]);
        check ('login through the form lands on the overview', page.url () === base + '/' && response.status () === 200,
               page.url () + ' ' + response.status ());
        problems.length = 0;        //  the 401s before the login are expected
        check ('overview is in Dutch', (await page.locator ('h1').first ().innerText ()) === 'Overzicht');
        const cookies = await context.cookies ();
        const session = cookies.find ((c) => c.name === 'en_session');
        check ('session cookie is HttpOnly and SameSite=Strict',
               session && session.httpOnly && session.sameSite === 'Strict');
        check ('the session cookie is not readable by scripts',
               (await page.evaluate (() => document.cookie)).indexOf ('en_session') < 0);

        // A request submitted at a node appears without a reload
        await page.evaluate (() => { window.enNoReload = 'still here'; });
        const before = await page.locator ('#open-requests tbody tr').count ();
        const submitted = JSON.parse (execSync (process.env.EN_SUBMIT, { encoding: 'utf8' }));
        check ('a node submitted a request', submitted && submitted.id, JSON.stringify (submitted));
        const row = page.locator ('#open-requests tr[data-request="' + submitted.id + '"]');
        let appeared = true;
        try {
            await row.waitFor ({ timeout: 15000 });
        }
        catch (error) {
            appeared = false;
        }
        check ('the new request appears in the open requests table', appeared);
        check ('... without a reload of the page', (await page.evaluate (() => window.enNoReload)) === 'still here');
        check ('the table grew by one row', (await page.locator ('#open-requests tbody tr').count ()) === before + 1);
        check ('the live indicator says it is up to date',
               (await page.locator ('#live-status').innerText ()).startsWith ('live, bijgewerkt'));
        if (appeared)
            check ('its row shows urgency and age', /crisis/.test (await row.innerText ()));

        // The charts are inline SVG drawn by the broker
        check ('three inline SVG charts', (await page.locator ('#charts svg.chart').count ()) === 3);
        await page.waitForTimeout (2500);       //  one more refresh, so the picture is settled
        await page.screenshot ({ path: process.env.EN_SCREENSHOT, fullPage: true });
        check ('screenshot saved', true);

        // The request's timeline
        await page.click ('#open-requests a[href="/verzoek/' + submitted.id + '"]');
        await page.waitForSelector ('#timeline');
        check ('request page shows its timeline',
               (await page.locator ('#timeline').innerText ()).includes ('ingediend'));
        check ('request page shows the access log with this view',
               (await page.locator ('#audit').innerText ()).includes ('bekeken'));

        // Experts' load
        await page.click ('nav a[href="/experts"]');
        await page.waitForSelector ('#experts');
        check ('experts page lists experts with a load bar',
               (await page.locator ('#experts svg.bar').count ()) > 0);

        // Every page, at a laptop width, a wide one and a phone: nothing
        // sticks out sideways, the navigation stays inside the header, and
        // axe-core finds no serious or critical WCAG violation
        const pages = [ '/', '/verzoeken', '/verzoek/' + submitted.id, '/experts', '/grafieken', '/nergens' ];
        for (const width of [ 1280, 1440, 390 ]) {
            await page.setViewportSize ({ width: width, height: 900 });
            for (const where of pages) {
                const known = problems.length;
                await page.goto (base + where);
                if (where === '/nergens')
                    problems.length = known;        //  its 404 is the point
                const layout = await page.evaluate (() => {
                    const root = document.documentElement;
                    const header = document.querySelector ('header');
                    const bar = header ? header.getBoundingClientRect () : null;
                    const outside = Array.from (document.querySelectorAll ('header nav a, header .who *')).filter ((el) => {
                        const r = el.getBoundingClientRect ();
                        return bar && (r.right > bar.right + 1 || r.left < bar.left - 1 || r.bottom > bar.bottom + 1);
                    }).map ((el) => el.textContent.trim ());
                    return { scroll: root.scrollWidth, client: root.clientWidth, outside: outside };
                });
                check (where + ' at ' + width + ' px: no horizontal overflow', layout.scroll <= layout.client,
                       'scrollWidth ' + layout.scroll + ' > ' + layout.client);
                check (where + ' at ' + width + ' px: the navigation stays in the header', layout.outside.length === 0,
                       layout.outside.join (', '));
                if (process.env.EN_SHOTS && width !== 1440)
                    await page.screenshot ({ path: path.join (process.env.EN_SHOTS, 'dashboard' + (where === '/' ? '-overzicht'
                                             : where.replace (/\/[^/]*-[0-9a-f]{8}$/, '').replace (/\//g, '-')) + '-' + width + '.png'),
                                             fullPage: true });
                if (width !== 1440)
                    await checkAxe (page, where + ' at ' + width + ' px');
            }
        }
        await page.setViewportSize ({ width: 1440, height: 900 });

        // Keyboard users see where they are
        await page.goto (base + '/');
        await page.keyboard.press ('Tab');
        const focus = await page.evaluate (() => {
            const el = document.activeElement;
            const style = getComputedStyle (el);
            return { tag: el.tagName, outline: style.outlineStyle !== 'none' && parseFloat (style.outlineWidth) >= 2,
                     shadow: style.boxShadow !== 'none' };
        });
        check ('the focused element has a visible focus ring', focus.outline || focus.shadow, JSON.stringify (focus));
        check ('live panels are announced politely (aria-live)',
               (await page.locator ('[data-src][aria-live=polite]').count ()) === (await page.locator ('[data-src]').count ()));

        check ('no script errors or CSP violations in the console', problems.length === 0, problems.join (' | '));

        // Log out: the session ends
        await page.goto (base + '/');
        await Promise.all ([ page.waitForNavigation (), page.click ('header form button') ]);
        response = await page.goto (base + '/api/overview');
        check ('after logout the API answers 401', response.status () === 401);

        // The login page, at both widths, for axe-core too
        for (const width of [ 1280, 390 ]) {
            await page.setViewportSize ({ width: width, height: 900 });
            await page.goto (base + '/login');
            await checkAxe (page, '/login at ' + width + ' px');
            const layout = await page.evaluate (() => [ document.documentElement.scrollWidth, document.documentElement.clientWidth ]);
            check ('/login at ' + width + ' px: no horizontal overflow', layout [0] <= layout [1], layout.join (' > '));
            if (process.env.EN_SHOTS)
                await page.screenshot ({ path: path.join (process.env.EN_SHOTS, 'dashboard-login-' + width + '.png') });
        }
    }
    finally {
        await browser.close ();
    }
}

run (main);
