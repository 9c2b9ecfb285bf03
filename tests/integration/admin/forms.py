"""Turn a rendered admin change page back into the POST a browser would send, to edit a few fields."""

from django import forms


def _fields(form):
    for name, field in form.fields.items():
        if field.disabled:
            continue  # browsers do not send disabled inputs
        yield form[name], field


def changeform_data(response) -> dict:
    """Every field of the page's form and its inline formsets, with the values as rendered."""
    all_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        all_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in all_forms:
        for bound, field in _fields(form):
            value = bound.value()
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = "" if value is None else str(value)
            if field.show_hidden_initial:  # fields with a callable default also render their initial value
                data[bound.html_initial_name] = data.get(bound.html_name, "")
    return data


def form_errors(response) -> dict:
    """Errors of the main form and its inline forms, keyed by field name."""
    errors = dict(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for name, messages in form.errors.items():
                errors.setdefault(name, []).extend(messages)
    return errors
