// portal_e2e.js - the portal end to end in a real browser (Debian's
// headless Chromium, driven by playwright-core), through the UI only, for
// tests/integration/test_portal_e2e.sh, which starts a broker, nodes
// twente and ijsselland with their portals, an SMTP server and the
// accounts.
//
// A twente medewerker logs in (password, then TOTP code), registers a
// case, submits a request whose question holds a BSN (refused on that
// field, nothing sent), corrects it and submits with a dossier. The
// ijsselland expert's e-mail arrives without case data; the expert opens
// its link, logs in with TOTP, lands on the offer, reads the question,
// accepts, opens the dossier and advises. The medewerker's request page,
// open all along, shows the advice without a reload. Another ijsselland
// expert cannot open the offer; the twente account cannot log in at
// ijsselland. Every page: axe-core, no horizontal overflow, no script
// error or CSP violation; screenshots at 1280 and 390 px.
//
// Environment:
//   EN_TW, EN_IJ          portal base URLs of twente and ijsselland
//   EN_MAILDIR            the SMTP server's Maildir
//   EN_MW_SECRET, EN_EX_SECRET, EN_EX2_SECRET   base32 TOTP secrets of
//                         mw-mara (twente), ex-eva and ex-bob (ijsselland)
//   EN_BROKER_REQUESTS, EN_NODE_REQUESTS   commands printing the broker's
//                         and twente's requests as JSON
//   EN_SHOTS              directory for screenshots (optional)
//   EN_SHOTS_DOCS_DIR     also write the representative ones here (optional)
//   EN_CHROMIUM           browser binary (default /usr/bin/chromium)
'use strict';
const { check, launch, checkAxe, run } = require ('./lib.js');
const crypto = require ('crypto');
const fs = require ('fs');
const path = require ('path');
const { execSync } = require ('child_process');

const TW = process.env.EN_TW;
const IJ = process.env.EN_IJ;
const SHOTS = process.env.EN_SHOTS;
const DOCS = process.env.EN_SHOTS_DOCS_DIR;
const WAIT = 90000;             //  generous: the machine is shared and slow

// Synthetic data only: 111222333 is the 11-proef test BSN, the name made up
const CLIENT_ID = '111222333';
const CLIENT_NAME = 'Fenna Proefpersoon';
const QUESTION_BSN = 'Hoe komen we verder na de tweede plaatsing? Het gaat om BSN 111222333.';
const QUESTION = 'Hoe komen we verder na de tweede plaatsing? Wat kan school bijdragen?';
const DOSSIER = 'Dossier kwx-e2e: vastgelopen na de tweede plaatsing; school wil meedenken.';
const ADVICE = 'Advies kwx-e2e: plan een gezamenlijk overleg met school en pleegouders.';

//  RFC 6238 (HMAC-SHA1, 30 s steps, 6 digits) from a base32 secret
function base32 (text) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0, value = 0;
    const out = [];
    for (const c of text.replace (/=+$/, '').toUpperCase ()) {
        value = (value << 5) | alphabet.indexOf (c);
        bits += 5;
        if (bits >= 8) {
            out.push ((value >>> (bits - 8)) & 255);
            bits -= 8;
        }
    }
    return Buffer.from (out);
}
function totpAt (secret, step) {
    const counter = Buffer.alloc (8);
    counter.writeBigUInt64BE (BigInt (step));
    const h = crypto.createHmac ('sha1', base32 (secret)).update (counter).digest ();
    const o = h [h.length - 1] & 15;
    return String ((h.readUInt32BE (o) & 0x7fffffff) % 1000000).padStart (6, '0');
}
//  A code not used before for this secret (the portal refuses a replayed
//  code): waits for the next 30 s step when this one was used
const usedStep = new Map ();
async function freshCode (secret) {
    let step = Math.floor (Date.now () / 30000);
    if (usedStep.has (secret) && usedStep.get (secret) >= step) {
        await new Promise ((resolve) => setTimeout (resolve, (usedStep.get (secret) + 1) * 30000 - Date.now () + 200));
        step = Math.floor (Date.now () / 30000);
    }
    usedStep.set (secret, step);
    return totpAt (secret, step);
}

const sleep = (ms) => new Promise ((resolve) => setTimeout (resolve, ms));
async function until (what, probe, ms) {
    const end = Date.now () + (ms || WAIT);
    let last;
    while (Date.now () < end) {
        try {
            last = await probe ();
            if (last)
                return last;
        }
        catch (error) {
            last = error;
        }
        await sleep (250);
    }
    return null;
}

function json (command) {
    return JSON.parse (execSync (command, { encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'ignore' ] }));
}

//  A browser context for one person: its page, and the console errors,
//  script errors and CSP violations seen there. A status the test expects
//  (a 422 refusal, a 401 login page, a 404) is logged by Chromium too:
//  expect (status) before the step lets that one through until the next
//  look ().
async function person (browser, who) {
    const context = await browser.newContext ({ viewport: { width: 1280, height: 900 }, locale: 'nl-NL' });
    const page = await context.newPage ();
    const problems = [];
    const allowed = new Set ();
    const expected = (text) => {
        const status = /status of (\d{3})\b/.exec (text);
        return /^Failed to load resource/.test (text) && status && allowed.has (Number (status [1]));
    };
    page.on ('console', (message) => {
        if (message.type () === 'error' && !expected (message.text ()))
            problems.push (message.text ());
    });
    page.on ('pageerror', (error) => problems.push (String (error)));
    return { who, context, page, problems, allowed,
             expect (status) { allowed.add (status); } };
}

//  The page as it is now, at 1280 and 390 px: axe-core, no horizontal
//  overflow, screenshots (into docs/ too for the ones named in docs),
//  and no console problem so far
async function look (p, what, docs) {
    const name = what.replace (/[^a-z0-9]+/gi, '-').replace (/^-|-$/g, '').toLowerCase ();
    for (const width of [ 1280, 390 ]) {
        await p.page.setViewportSize ({ width: width, height: 900 });
        await checkAxe (p.page, what + ' at ' + width + ' px');
        const layout = await p.page.evaluate (() => [ document.documentElement.scrollWidth,
                                                      document.documentElement.clientWidth ]);
        check (what + ' at ' + width + ' px: no horizontal overflow', layout [0] <= layout [1], layout.join (' > '));
        if (SHOTS)
            await p.page.screenshot ({ path: path.join (SHOTS, 'portal-e2e-' + name + '-' + width + '.png'),
                                       fullPage: true });
        if (DOCS && docs && docs.includes (width))
            await p.page.screenshot ({ path: path.join (DOCS, 'portal-e2e-' + name + '-' + width + '.png'),
                                       fullPage: true });
    }
    await p.page.setViewportSize ({ width: 1280, height: 900 });
    check (what + ': no script errors or CSP violations', p.problems.length === 0, p.problems.join (' | '));
    p.problems.length = 0;
    p.allowed.clear ();
}

//  Click a button (by its text) and wait for the page it leads to
async function submit (page, button) {
    const [ response ] = await Promise.all ([
        page.waitForNavigation ({ timeout: WAIT }),
        page.getByRole ('button', { name: button, exact: true }).click () ]);
    return response;
}

//  Log in through the form on the page shown (password, then TOTP code);
//  the response of the last step
async function login (p, name, password, secret) {
    await p.page.fill ('#name', name);
    await p.page.fill ('#password', password);
    let response = await submit (p.page, 'Inloggen');
    if (!secret)
        return response;
    check (p.who + ': the password step asks for the code', await p.page.locator ('#code').count () === 1,
           response.status () + ' ' + p.page.url ());
    await look (p, p.who + ' login code step');
    await p.page.fill ('#code', await freshCode (secret));
    return submit (p.page, 'Bevestigen');
}

async function main () {
    const browser = await launch ();
    try {
        // --- The medewerker: log in, register a case
        const mw = await person (browser, 'medewerker');
        let response = await mw.page.goto (TW + '/login');
        check ('twente login page: 200', response.status () === 200, String (response.status ()));
        await look (mw, 'medewerker login');
        response = await login (mw, 'mw-mara', 'mara haar wachtwoord', process.env.EN_MW_SECRET);
        check ('the medewerker logs in with password and TOTP code', response.ok () && mw.page.url () === TW + '/',
               response.status () + ' ' + mw.page.url ());
        await look (mw, 'medewerker start');

        await mw.page.getByRole ('link', { name: 'Zaken', exact: true }).first ().click ();
        await mw.page.waitForURL (TW + '/zaken', { timeout: WAIT });
        await look (mw, 'medewerker zaken');
        await Promise.all ([ mw.page.waitForNavigation ({ timeout: WAIT }),
                             mw.page.locator ('main').getByRole ('link', { name: 'Zaak registreren' }).first ().click () ]);
        check ('Zaken → Zaak registreren opens the form', mw.page.url () === TW + '/zaken/nieuw', mw.page.url ());
        await look (mw, 'medewerker zaak registreren');
        await mw.page.fill ('#client_id', CLIENT_ID);
        await mw.page.fill ('#name', CLIENT_NAME);
        await mw.page.selectOption ('#age_band', '12-17');
        response = await submit (mw.page, 'Zaak registreren');
        const pseudonym = (await mw.page.locator ('#pseudonym').textContent () || '').trim ();
        check ('the case is registered and its pseudonym shown', response.ok () && /^p1-/.test (pseudonym),
               response.status () + ' ' + pseudonym);
        check ('... the page does not show the client number or name',
               !(await mw.page.content ()).includes (CLIENT_ID) && !(await mw.page.content ()).includes (CLIENT_NAME));
        await look (mw, 'medewerker zaak geregistreerd');

        // --- The request form: until the network holds trauma, then the BSN
        await Promise.all ([ mw.page.waitForNavigation ({ timeout: WAIT }),
                             mw.page.getByRole ('link', { name: 'Consultatieverzoek voor deze zaak' }).click () ]);
        const formUrl = mw.page.url ();
        //  twente has no expert: the tags are the network's (the broker's
        //  TAGS); trauma, which ijsselland's expert holds, offered as available
        const trauma = 'input[name=expertise][value=trauma]';
        const held = await until ('trauma held', async () => {
            if (await mw.page.locator (trauma + ':not([data-unavailable])').count () === 1)
                return true;
            await sleep (500);
            await mw.page.goto (formUrl);
            return false;
        });
        check ('the request form offers expertise trauma, held by the network (at ijsselland)', !!held);
        check ('... with the case chosen', await mw.page.inputValue ('#case') === pseudonym,
               await mw.page.inputValue ('#case'));
        await look (mw, 'medewerker nieuw verzoek');
        const fill = async (question) => {
            await mw.page.selectOption ('#urgency', 'hoog');
            await mw.page.selectOption ('#question_type', 'consultatie-advies');
            await mw.page.check (trauma);
            check ('... without the hiaat warning', !(await mw.page.locator ('#tag-warning').isVisible ()));
            await mw.page.selectOption ('#age_band', '12-17');
            await mw.page.fill ('#question', question);
            await mw.page.fill ('#dossier', DOSSIER);
        };
        await fill (QUESTION_BSN);
        mw.expect (422);
        response = await submit (mw.page, 'Verzoek indienen');
        check ('a question holding a BSN is refused (422)', response.status () === 422, String (response.status ()));
        check ('... on the question field (aria-invalid)',
               await mw.page.getAttribute ('#question', 'aria-invalid') === 'true');
        const error = (await mw.page.locator ('#question-error').textContent ().catch (() => '')) || '';
        check ('... with the error next to it, in Dutch, naming the BSN', /BSN/.test (error) && /niets verstuurd/i.test (error),
               error);
        check ('... described by that error', ((await mw.page.getAttribute ('#question', 'aria-describedby')) || '')
               .split (' ').includes ('question-error'));
        check ('... no other field marked invalid', await mw.page.locator ('[aria-invalid=true]').count () === 1,
               String (await mw.page.locator ('[aria-invalid=true]').count ()));
        check ('... what was typed is kept', await mw.page.inputValue ('#dossier') === DOSSIER
               && await mw.page.isChecked (trauma));
        await look (mw, 'medewerker verzoek geweigerd', [ 1280 ]);
        const brokerRequests = json (process.env.EN_BROKER_REQUESTS);
        const nodeRequests = json (process.env.EN_NODE_REQUESTS);
        check ('... and nothing was sent: the broker has no request', Array.isArray (brokerRequests)
               && brokerRequests.length === 0, JSON.stringify (brokerRequests).slice (0, 200));
        check ('... nor the node', Array.isArray (nodeRequests) && nodeRequests.length === 0,
               JSON.stringify (nodeRequests).slice (0, 200));

        await mw.page.fill ('#question', QUESTION);
        response = await submit (mw.page, 'Verzoek indienen');
        const match = /\/verzoeken\/([^/?#]+)$/.exec (new URL (mw.page.url ()).pathname);
        const request = match && match [1];
        check ('corrected, the request is submitted and its page shown', response.ok () && !!request,
               response.status () + ' ' + mw.page.url ());
        const offer = request + '-o1';
        await look (mw, 'medewerker verzoek');
        //  The request page stays open: the advice must come without reload
        const panel = mw.page.locator ('.live-panel[data-panel^="verzoek"]');
        check ('the request page has a live panel', await panel.count () === 1);
        await mw.page.evaluate (() => { window.enNotReloaded = true; });
        let navigations = 0;
        mw.page.on ('framenavigated', (frame) => { if (frame === mw.page.mainFrame ()) navigations++; });

        // --- The expert's e-mail: the link, no case data
        const maildir = path.join (process.env.EN_MAILDIR, 'new');
        const mail = await until ('mail', () => {
            for (const file of fs.existsSync (maildir) ? fs.readdirSync (maildir) : []) {
                const text = fs.readFileSync (path.join (maildir, file), 'utf8');
                if (/^To: <se-ij-01@ijsselland\.example>/m.test (text) && text.includes ('/aanbod/' + offer))
                    return text;
            }
            return null;
        }, 120000);
        check ("the expert's e-mail arrives at the SMTP server", !!mail);
        const link = mail && (/(https?:\/\/\S+\/aanbod\/[A-Za-z0-9._-]+)/.exec (mail) || []) [1];
        check ('... with a link to the offer in the ijsselland portal', link === IJ + '/aanbod/' + offer, String (link));
        check ('... in plain text (so the checks below read it)', mail && /^Reageer voor: /m.test (mail));
        for (const [ what, text ] of [ [ 'question text', 'plaatsing' ], [ 'expertise tag', 'trauma' ],
                                       [ 'case pseudonym', pseudonym ], [ 'client name', 'Proefpersoon' ],
                                       [ 'client number', CLIENT_ID ], [ 'dossier', 'kwx-e2e' ],
                                       [ 'age band', '12-17' ] ])
            check ('... and holds no ' + what, mail && !mail.toLowerCase ().includes (text.toLowerCase ()));

        // --- The expert follows the link, logs in, lands on the offer
        const ex = await person (browser, 'expert');
        ex.expect (401);
        response = await ex.page.goto (link || IJ + '/aanbod/' + offer);
        check ('the link asks for a login', await ex.page.locator ('#password').count () === 1,
               response.status () + ' ' + ex.page.url ());
        check ('... and keeps where it leads', await ex.page.inputValue ('input[name=next]') === '/aanbod/' + offer,
               await ex.page.inputValue ('input[name=next]'));
        await look (ex, 'expert login via link');
        response = await login (ex, 'ex-eva', 'eva haar wachtwoord', process.env.EN_EX_SECRET);
        check ('the expert logs in with TOTP and lands on the offer',
               response.ok () && ex.page.url () === IJ + '/aanbod/' + offer, response.status () + ' ' + ex.page.url ());
        check ('... which shows the full question', (await ex.page.locator ('main').textContent ()).includes (QUESTION));
        await look (ex, 'expert aanbod', [ 390 ]);
        response = await submit (ex.page, 'Aanbod accepteren');
        check ('the expert accepts', response.ok (), String (response.status ()));
        const dossier = await until ('dossier', async () => {
            const shown = ex.page.locator ('.dossier');
            if (await shown.count () === 1 && (await shown.textContent ()).includes (DOSSIER))
                return true;
            await sleep (500);
            await ex.page.reload ();
            return false;
        });
        check ('... and opens the dossier, its text visible', !!dossier && await ex.page.locator ('.dossier').isVisible ());
        await look (ex, 'expert dossier');
        //  Advice is a message of the request's conversation, kind Advies
        await ex.page.fill ('#bericht', ADVICE);
        await ex.page.check ('input[name="soort"][value="advies"]');
        response = await submit (ex.page, 'Bericht versturen');
        check ('the expert sends the advice in the conversation', response.ok (), String (response.status ()));
        await look (ex, 'expert advies verstuurd');

        // --- Meanwhile the medewerker's page shows it, without reload
        const live = await mw.page.waitForFunction ((text) => {
            const panel = document.querySelector ('.live-panel[data-panel^="verzoek"]');
            return panel && panel.textContent.includes (text);
        }, ADVICE, { timeout: 120000, polling: 500 }).then (() => true, () => false);
        check ("the medewerker's open request page shows the advice", live);
        check ('... without a reload or navigation', navigations === 0
               && await mw.page.evaluate (() => window.enNotReloaded === true), navigations + ' navigation(s)');
        await look (mw, 'medewerker advies ontvangen', [ 1280 ]);

        // --- Another expert cannot open that offer or its dossier
        const ex2 = await person (browser, 'other expert');
        await ex2.page.goto (IJ + '/login');
        response = await login (ex2, 'ex-bob', 'bob zijn wachtwoord', process.env.EN_EX2_SECRET);
        check ('another ijsselland expert logs in', response.ok () && ex2.page.url () === IJ + '/',
               response.status () + ' ' + ex2.page.url ());
        ex2.expect (404);
        response = await ex2.page.goto (IJ + '/aanbod/' + offer);
        check ('... and cannot open that offer (404)', response.status () === 404, String (response.status ()));
        const other = await ex2.page.content ();
        check ('... nor see its question, dossier or advice',
               !other.includes ('plaatsing') && !other.includes ('kwx-e2e'));
        check ('... and has no such offer in the inbox', await (async () => {
            await ex2.page.goto (IJ + '/aanbod');
            return !(await ex2.page.content ()).includes (offer);
        }) ());
        await look (ex2, 'ander expert geen toegang');

        // --- An account of twente cannot log in at ijsselland
        const guest = await person (browser, 'twente at ijsselland');
        await guest.page.goto (IJ + '/login');
        guest.expect (401);
        response = await login (guest, 'mw-mara', 'mara haar wachtwoord', null);
        check ("twente's medewerker cannot log in at ijsselland",
               await guest.page.locator ('#code').count () === 0 && await guest.page.locator ('#password').count () === 1
               && !/^2/.test (String (response.status ())), response.status () + ' ' + guest.page.url ());
        check ('... and is told so', await guest.page.locator ('[role=alert]').count () === 1);
        response = await guest.page.goto (IJ + '/verzoeken');
        check ('... and has no session there', await guest.page.locator ('#password').count () === 1,
               response.status () + ' ' + guest.page.url ());
        await look (guest, 'twente account bij ijsselland');
        for (const p of [ mw, ex, ex2, guest ])
            await p.context.close ();
    }
    finally {
        await browser.close ();
    }
}

run (main);
