// A comparison row's identity, to pair it with the rows the builder's truth plants: a callback's
// is the comparison's (its row id, `callback:kind|module+offset` or `callback:kind|code:…`; its
// What cell says it in words), any other row's is its What cell (the object's name).

export function diffRowIdentity(rowId: string, what: string): string {
  return rowId.startsWith('callback:') ? rowId.slice('callback:'.length).replace(/ \(\d+\)$/, '') : what;
}
