// Creating a task: an AI template (its active version) and optionally one of its presets, the prompt,
// and an optional name (generated from the prompt when left empty, as the API does).
import { h, replace } from './dom.js';
import { api, seg } from './api.js';
import { field, form } from './forms.js';
import { busy, errorBox, showError } from './ui.js';

export function createView(main, ctx) {
  const heading = h('h1', { tabindex: '-1' }, 'New task');
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading templates…'));
  main.append(h('section', { class: 'card' }, heading, body));
  heading.focus();
  let alive = true;

  api('GET', `/templates?q=${encodeURIComponent('has-ai-task:true')}`).then(
    (templates) => alive && renderForm(body, ctx, templates),
    (err) => {
      if (!alive) return;
      const box = errorBox();
      replace(body, box);
      showError(box, err);
    },
  );
  return () => {
    alive = false;
  };
}

function renderForm(body, ctx, templates) {
  if (templates.length === 0) {
    replace(
      body,
      h('p', {}, 'There is no AI template to create a task from yet.'),
      h('p', { class: 'hint' }, 'An administrator can add one, for example: ', h('code', {}, 'taskd templates create examples/builtin-agent-template.json')),
    );
    return;
  }
  const template = h(
    'select',
    { name: 'template', required: true },
    templates.map((t) => h('option', { value: t.id }, t.display_name || t.name)),
  );
  const preset = h('select', { name: 'preset' }, h('option', { value: '' }, 'No preset'));
  const description = h('p', { class: 'hint', 'aria-live': 'polite' });
  const prompt = h('textarea', { name: 'prompt', rows: '6', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', maxlength: '32', pattern: '[a-zA-Z0-9](-?[a-zA-Z0-9])*' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create task');
  const errors = errorBox();
  let versionId = null;

  async function loadVersion() {
    const chosen = templates.find((t) => t.id === template.value);
    versionId = chosen?.active_version_id ?? null;
    description.textContent = chosen?.description ?? '';
    replace(preset, h('option', { value: '' }, 'No preset'));
    if (!versionId) return;
    try {
      const version = await api('GET', `/templateversions/${seg(versionId)}`);
      for (const p of version.presets ?? []) preset.append(h('option', { value: p.ID }, p.Name));
      preset.disabled = (version.presets ?? []).length === 0;
    } catch (err) {
      showError(errors, err);
    }
  }
  template.addEventListener('change', loadVersion);

  const f = form({ 'aria-label': 'New task' }, () =>
    busy(submit, errors, async () => {
      const task = await api('POST', '/tasks/me', {
        template_version_id: versionId,
        ...(preset.value ? { template_version_preset_id: preset.value } : {}),
        input: prompt.value,
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
      });
      ctx.navigate(`#/tasks/${encodeURIComponent(task.owner_name)}/${task.id}`);
    }),
    field('Template', template),
    description,
    field('Preset', preset),
    field('Prompt', prompt, 'What should the agent do? Markdown is fine.'),
    field('Name (optional)', name, 'Letters, digits and hyphens. Left empty, a name is made from the prompt.'),
    errors,
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/' }, 'Cancel')),
  );
  replace(body, f);
  loadVersion();
}
