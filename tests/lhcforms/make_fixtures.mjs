// Makes tests/data/lhcforms/*.json: QuestionnaireResponses filled in LHC-Forms (the NLM
// renderer, npm package `lforms`) and exported by LHC-Forms' own API.
//
// Rerun (needs Node 20 and Debian's Chromium at /usr/bin/chromium; nothing else is downloaded):
//
//   PYTHONPATH=$PWD python -m hipback questions --format fhir > tests/lhcforms/questionnaire.json
//   cd tests/lhcforms && npm install --no-save --legacy-peer-deps lforms playwright-core && node make_fixtures.mjs
//
// (--legacy-peer-deps: lforms lists Angular's packages as dependencies, and npm's peer
// resolution of them can spin for many minutes; the browser needs only lforms' built dist/.)
//
// What it does: serves lforms' built files from node_modules on 127.0.0.1 (every other
// request of the page is refused), renders hipback's Questionnaire with
// LForms.Util.addFormToPage, fills each case through the rendered form as a person would
// (ticking the check-boxes, pressing the radio and Yes/No buttons, typing the age), then
// exports it with LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', element).
// Each export is checked against the answers the case meant to give before it is written.
//
// The one change made to an export: LHC-Forms always writes status "completed"; the
// in-progress case is written twice, as exported (partial.json) and with status
// "in-progress" (partial_in_progress.json), as an application saving a draft would mark it.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const { chromium } = require('playwright-core');

const LFORMS_DIST = path.join(here, 'node_modules', 'lforms', 'dist', 'lforms');
const LFORMS_VERSION = JSON.parse(
  fs.readFileSync(path.join(here, 'node_modules', 'lforms', 'package.json'), 'utf8'),
).version;
const QUESTIONNAIRE = JSON.parse(fs.readFileSync(path.join(here, 'questionnaire.json'), 'utf8'));
// LHCFORMS_OUT: another folder to write to (tests/test_lhcforms.py's remaking check).
const OUT = process.env.LHCFORMS_OUT ?? path.join(here, '..', 'data', 'lhcforms');

// Each answer: [linkId, value]: a list of codes for a choice question, a number for an
// integer one, true/false for a yes/no one; filled in this order (an item that appears
// only after an earlier answer, by its enableWhen, comes after that answer).
const CASES = [
  {
    name: 'hip_oa',
    about: 'classic hip osteoarthritis: 67, groin and front of thigh, pain turning the leg in, limp',
    answers: [
      ['red_flags', ['none']],
      ['risk_factors', ['none']],
      ['age', 67],
      ['sides', ['one_side']],
      ['worst_site', ['groin']],
      ['pain_areas', ['groin', 'front_thigh']],
      ['c_sign', true],
      ['quality', ['dull_ache', 'stiffness']],
      ['tingling_numbness', false],
      ['outer_thigh_patch', false],
      ['hip_catching', false],
      ['knee_gives_way', false],
      ['worse_with', ['walking', 'stairs', 'socks_shoes', 'rising_from_chair']],
      ['walking_onset', ['at_once']],
      ['eased_by', ['rest']],
      ['rotation_pain', true],
      ['morning_stiffness', ['under_1h']],
      ['limp', true],
      ['onset', ['gradual']],
      ['duration', ['over_12_weeks']],
      ['previous_surgery', ['none']],
    ],
  },
  {
    name: 'sciatica',
    about: 'classic sciatica: 42, buttock to foot, shooting and electric, worse sitting and coughing',
    answers: [
      ['red_flags', ['none']],
      ['risk_factors', ['none']],
      ['age', 42],
      ['sides', ['one_side']],
      ['worst_site', ['buttock']],
      ['pain_areas', ['low_back', 'buttock', 'back_thigh', 'below_knee', 'foot']],
      ['c_sign', false],
      ['one_finger_point', false],
      ['quality', ['shooting', 'electric']],
      ['tingling_numbness', true],
      ['tingling_where', ['back_or_outer_leg_or_foot']],
      ['outer_thigh_patch', false],
      ['hip_catching', false],
      ['worse_with', ['sitting_long', 'bending_forward', 'coughing_sneezing']],
      ['eased_by', ['lying_down']],
      ['rotation_pain', false],
      ['morning_stiffness', ['none']],
      ['limp', false],
      ['onset', ['sudden']],
      ['duration', ['6_to_12_weeks']],
      ['previous_surgery', ['none']],
    ],
  },
  {
    name: 'warning_sign_and_none',
    about:
      'the sciatica case with a warning sign (saddle numbness) AND "None of these" both ticked:' +
      ' LHC-Forms does not enforce optionExclusive',
    answers: [
      ['red_flags', ['saddle_numbness', 'none']],
      ['risk_factors', ['none']],
      ['age', 42],
      ['sides', ['one_side']],
      ['worst_site', ['buttock']],
      ['pain_areas', ['low_back', 'buttock', 'back_thigh', 'below_knee', 'foot']],
      ['c_sign', false],
      ['one_finger_point', false],
      ['quality', ['shooting', 'electric']],
      ['tingling_numbness', true],
      ['tingling_where', ['back_or_outer_leg_or_foot']],
      ['outer_thigh_patch', false],
      ['hip_catching', false],
      ['worse_with', ['sitting_long', 'bending_forward', 'coughing_sneezing']],
      ['eased_by', ['lying_down']],
      ['rotation_pain', false],
      ['morning_stiffness', ['none']],
      ['limp', false],
      ['onset', ['sudden']],
      ['duration', ['6_to_12_weeks']],
      ['previous_surgery', ['none']],
    ],
  },
  {
    name: 'partial',
    about: 'in progress: the warning signs, age, sides and worst site answered, then stopped',
    answers: [
      ['red_flags', ['none']],
      ['age', 58],
      ['sides', ['one_side']],
      ['worst_site', ['side_of_hip']],
    ],
    alsoInProgress: true,
  },
];

function questionItems(items, found = new Map()) {
  for (const item of items ?? []) {
    found.set(item.linkId, item);
    questionItems(item.item, found);
  }
  return found;
}
const ITEMS = questionItems(QUESTIONNAIRE.item);

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>hipback in LHC-Forms</title>
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/runtime.js" type="module"></script>
<script src="/lforms/webcomponent/polyfills.js" type="module"></script>
<script src="/lforms/webcomponent/main.js" type="module"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js" defer></script>
</head><body><div id="form"></div></body></html>`;

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

function serve() {
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url, 'http://127.0.0.1');
    if (pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
      return;
    }
    const file = path.join(LFORMS_DIST, path.normalize(pathname.replace(/^\/lforms\//, '')));
    if (pathname.startsWith('/lforms/') && file.startsWith(LFORMS_DIST + path.sep) && fs.existsSync(file)) {
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(response);
      return;
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const byId = (id) => `[id="${id}"]`;

// Choice items carry itemControl check-box (several choices) or radio-button (one):
// LHC-Forms shows every option as a labelled box or button, the label's id
// `${linkId}/1/1|${system}|${code}`. Each is checked to read the option's display first.
function optionId(linkId, code) {
  const item = ITEMS.get(linkId);
  const option = item.answerOption.find((o) => o.valueCoding.code === code);
  if (!option) throw new Error(`${linkId}: no option ${code}`);
  return [`${linkId}/1/1|${option.valueCoding.system}|${code}`, option.valueCoding.display];
}

async function choose(page, linkId, codes) {
  for (const code of codes) {
    const [id, display] = optionId(linkId, code);
    const label = page.locator(byId(id));
    const text = (await label.innerText()).replace(/\s+/g, ' ').trim();
    if (!text.endsWith(display)) throw new Error(`${linkId}: option ${code} reads ${text}`);
    await label.click();
  }
}

async function fill(page, [linkId, value]) {
  const item = ITEMS.get(linkId);
  if (!item) throw new Error(`no item ${linkId} in questionnaire.json`);
  if (item.type === 'integer') {
    await page.locator(byId(`${linkId}/1/1`)).fill(String(value));
    await page.locator(byId(`${linkId}/1/1`)).press('Tab');
  } else if (item.type === 'boolean') {
    await page.locator(byId(`${linkId}/1/1|${value}`)).click();
  } else if (item.type === 'choice') {
    await choose(page, linkId, value);
  } else {
    throw new Error(`${linkId}: type ${item.type} is not filled by this script`);
  }
}

function exportedAnswers(response) {
  const found = new Map();
  const walk = (items) => {
    for (const item of items ?? []) {
      if (item.answer) {
        found.set(
          item.linkId,
          item.answer.map((a) => a.valueCoding?.code ?? a.valueInteger ?? a.valueBoolean),
        );
      }
      walk(item.item);
    }
  };
  walk(response.item);
  return found;
}

function checkExport(name, response, answers) {
  const got = exportedAnswers(response);
  const want = new Map(answers.map(([id, v]) => [id, Array.isArray(v) ? v : [v]]));
  const show = (m) => JSON.stringify([...m].sort());
  // Compared question by question, the order of a question's answers aside.
  for (const [id, values] of want) {
    const exported = got.get(id);
    if (!exported || JSON.stringify([...exported].sort()) !== JSON.stringify([...values].sort())) {
      throw new Error(`${name}: ${id} exported as ${JSON.stringify(exported)}, filled ${JSON.stringify(values)}`);
    }
  }
  for (const id of got.keys()) {
    if (!want.has(id)) throw new Error(`${name}: ${id} exported but not filled: ${show(got)}`);
  }
}

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const chromiumVersion = browser.version();
fs.mkdirSync(OUT, { recursive: true });
try {
  for (const { name, answers, alsoInProgress } of CASES) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.route('**', (route) =>
      route.request().url().startsWith(base + '/') ? route.continue() : route.abort(),
    );
    await page.goto(base + '/');
    await page.waitForFunction(() => window.LForms?.Util?.getFormFHIRData && window.LForms.FHIR);
    await page.evaluate(
      (questionnaire) => LForms.Util.addFormToPage(questionnaire, 'form'),
      QUESTIONNAIRE,
    );
    await page.locator(byId(optionId('red_flags', 'none')[0])).waitFor();
    for (const answer of answers) await fill(page, answer);
    const response = await page.evaluate(() =>
      LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', document.getElementById('form')),
    );
    if (!response) throw new Error(`${name}: LHC-Forms exported nothing`);
    checkExport(name, response, answers);
    const write = (file, resource) =>
      fs.writeFileSync(path.join(OUT, file), JSON.stringify(resource, null, 2) + '\n');
    write(`${name}.json`, response);
    if (alsoInProgress) write(`${name}_in_progress.json`, { ...response, status: 'in-progress' });
    console.log(`${name}: ${exportedAnswers(response).size} questions answered`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}

const readme = `QuestionnaireResponses filled in LHC-Forms and exported by its own API
(LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', element)).

Made by tests/lhcforms/make_fixtures.mjs (how to rerun: at the top of that script)
lforms (npm): ${LFORMS_VERSION}
browser: Chromium ${chromiumVersion}, headless
questionnaire: tests/lhcforms/questionnaire.json (hipback questions --format fhir, version ${QUESTIONNAIRE.version})

${CASES.map((c) => `${c.name}.json: ${c.about}`).join('\n')}
partial_in_progress.json: partial.json with status "in-progress" (LHC-Forms always writes
  "completed"; the script changed that one field, as an application saving a draft would)
`;
fs.writeFileSync(path.join(OUT, 'README.txt'), readme);
