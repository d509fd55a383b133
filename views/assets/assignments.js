// Comment bank: choosing a saved comment puts it into the feedback at once, so the teacher can
// edit it before saving. Without JavaScript the server appends the chosen comment on save.
for (const select of document.querySelectorAll('select[data-append-to]')) {
  select.addEventListener('change', () => {
    const option = select.selectedOptions[0];
    const target = document.getElementById(select.dataset.appendTo);
    if (!option || !option.value || !target) return;
    const text = option.dataset.text || '';
    target.value = target.value.trim() ? `${target.value.trim()}\n\n${text}` : text;
    select.value = '';
    target.focus();
  });
}
