'use strict';
// Django's "+" popup adds the new object to a <select> (or to a filter_horizontal box) but does
// nothing for checkboxes: the new theme appeared nowhere and was not saved. Here the popup's
// answer adds a ticked checkbox to the list, shaped as Django renders one, then Django's own
// code goes on (change event, closing the popup). Loaded after RelatedObjectLookups.js.
{
    const dismissAdd = window.dismissAddRelatedObjectPopup;

    function addCheckbox(list, value, label) {
        const existing = list.querySelector('input[type="checkbox"][value="' + CSS.escape(value) + '"]');
        if (existing) {
            existing.checked = true;
            return;
        }
        const boxes = list.querySelectorAll('input[type="checkbox"]');
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.name = boxes.length ? boxes[0].name : list.id.replace(/^id_/, '');
        input.value = value;
        input.id = list.id + '_' + boxes.length;
        input.checked = true;
        const text = document.createElement('label');
        text.htmlFor = input.id;
        text.append(input, ' ' + label);
        const row = document.createElement('div');
        row.append(text);
        list.append(row);
    }

    if (dismissAdd) {
        window.dismissAddRelatedObjectPopup = function(win, newId, newRepr) {
            const name = win.name.replace(/__\d+$/, '');
            const list = document.getElementById(name);
            if (list && list.nodeName.toUpperCase() === 'DIV') {
                addCheckbox(list, String(newId), newRepr);
            }
            return dismissAdd(win, newId, newRepr);
        };
        window.dismissAddAnotherPopup = window.dismissAddRelatedObjectPopup;
    }
}
