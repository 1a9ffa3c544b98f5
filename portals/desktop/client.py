"""The case system's desktop client, as a municipality reaches it through Citrix: pixels and a keyboard, no DOM.

`python -m portals.desktop --url https://127.0.0.1:8100 --ca-file CA [--layout v2] [--geometry-file F]` opens one
window (the server's certificate is verified against the system's roots and CA, the sandbox's test CA):
login → case number → the calculation screen (every amount field in tab order, the totals, "Behöver
kompletteras", save and park) with a status bar, and modal dialogs for every answer. It talks to the sandbox case
system's desktop API (portals/casesystem/desktop_api.py), so what is typed here lands in the same case and the same
audit trail as the web screens.

Layout v2 is the vendor's next version: another window position, two columns in another order, other texts.
`--geometry-file` writes, after each screen is drawn, where its labels and fields are on the screen: what an
admin would point at when re-recording anchors (tests use it as the admin's clicks).
"""

from __future__ import annotations

import argparse
import json
import ssl
import tkinter as tk
from pathlib import Path
from typing import Any

import httpx

from portals.casesystem.fields import BY_KEY, SECTIONS, TOTAL_KEYS, TOTAL_LABELS

FONT = ("DejaVu Sans", 10)
BOLD = ("DejaVu Sans", 11, "bold")
LAYOUTS: dict[str, dict[str, Any]] = {
    "v1": {"title": "Procapita EB – Skrivbordsklient", "position": "+0+0", "columns": 1, "bg": "#e8e8e8",
           "texts": {"login": "Logga in", "username": "Användarnamn", "password": "Lösenord", "case_no": "Ärendenummer",
                     "open": "Öppna", "save": "Spara", "park": "Parkera för signering", "close": "Stäng",
                     "needs_completion": "Behöver kompletteras"}},
    "v2": {"title": "Procapita EB 2 – Ekonomisk beräkning", "position": "+160+90", "columns": 2, "bg": "#dfe7f0",
           "texts": {"login": "Anslut", "username": "Användar-id", "password": "Lösenord", "case_no": "Ärende",
                     "open": "Hämta ärende", "save": "Spara beräkning", "park": "Skicka till attest",
                     "close": "Tillbaka", "needs_completion": "Komplettering krävs"}},
}


class Client:
    def __init__(self, root: tk.Tk, url: str, layout: str, geometry_file: Path | None,
                 ca_file: Path | None = None) -> None:
        self.root, self.url, self.layout = root, url.rstrip("/"), LAYOUTS[layout]
        self.layout_name = layout
        self.geometry_file = geometry_file
        self.http = httpx.Client(timeout=30, verify=trust(ca_file))
        self.token = ""
        self.case: dict[str, Any] = {}
        self.entries: dict[str, tk.Entry] = {}
        self.named: dict[str, tk.Widget] = {}
        self.screen = "login"
        root.title(self.layout["title"])
        root.geometry(self.layout["position"])
        root.configure(bg=self.layout["bg"])
        root.option_add("*Font", FONT)
        root.option_add("*Entry.insertOffTime", 0)  # no blinking cursor: the screen is the same from shot to shot
        self.body = tk.Frame(root, bg=self.layout["bg"], padx=12, pady=10)
        self.body.pack(fill="both", expand=True)
        self.status = tk.Label(root, text="Ej inloggad", anchor="w", relief="sunken", bd=1, padx=6)
        self.status.pack(fill="x", side="bottom")
        self.show_login()

    # -- plumbing -------------------------------------------------------------------------------------------
    def t(self, key: str) -> str:
        return str(self.layout["texts"][key])

    def clear(self) -> None:
        for child in self.body.winfo_children():
            child.destroy()
        self.entries, self.named = {}, {}

    def label(self, parent: tk.Widget, name: str, text: str, **grid: Any) -> tk.Label:
        widget = tk.Label(parent, text=text, bg=self.layout["bg"], anchor="w")
        widget.grid(**grid)
        self.named[f"label:{name}"] = widget
        return widget

    def entry(self, parent: tk.Widget, name: str, width: int = 14, **grid: Any) -> tk.Entry:
        widget = tk.Entry(parent, width=width, justify="right" if name not in ("username", "password", "case_no")
                          else "left")
        widget.grid(**grid)
        # Ctrl+A selects everything, as in the Windows clients this one stands in for (Tk's own is line start).
        widget.bind("<Control-a>", lambda e: (e.widget.select_range(0, "end"), e.widget.icursor("end"), "break")[2])
        self.entries[name] = widget
        self.named[f"field:{name}"] = widget
        return widget

    def button(self, parent: tk.Widget, name: str, command: Any, **grid: Any) -> tk.Button:
        widget = tk.Button(parent, text=self.t(name), command=command, padx=10)
        widget.bind("<Return>", lambda _e: command())
        widget.grid(**grid)
        self.named[f"button:{name}"] = widget
        return widget

    def drawn(self, screen: str, only: dict[str, tk.Widget] | None = None) -> None:
        """After a screen is on the display: note where everything is, for the re-recording script."""
        if not screen.startswith("dialog:"):
            self.screen = screen
            # The session's only window keeps the keyboard, as under a remote-desktop session's window manager
            # (a bare Xvfb has none: the keyboard would follow the pointer).
            self.root.focus_force()
        self.root.update_idletasks()
        self.root.update()
        if self.geometry_file is None:
            return
        shapes = {name: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]
                  for name, w in (only if only is not None else self.named).items()}
        self.geometry_file.write_text(json.dumps({"screen": screen, "layout": self.layout_name, "widgets": shapes}),
                                      encoding="utf-8")

    def dialog(self, kind: str, text: str, question: bool = False) -> bool:
        """A modal dialog, the client's own (as legacy clients draw theirs): Enter is OK/Ja, Escape is Nej. Waits
        for the answer, like the message boxes it stands in for."""
        box = tk.Toplevel(self.root, bg=self.layout["bg"], padx=16, pady=12)
        box.title("Procapita")
        box.transient(self.root)
        box.resizable(False, False)
        answer = tk.BooleanVar(value=False)
        shown: dict[str, tk.Widget] = {}
        message = tk.Label(box, text=text, bg=self.layout["bg"], wraplength=420, justify="left")
        message.grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 10))
        shown["label:message"] = message

        def close(value: bool) -> None:
            answer.set(value)
            box.destroy()

        yes = tk.Button(box, text="Ja" if question else "OK", width=8, command=lambda: close(True))
        yes.grid(row=1, column=0, sticky="e")
        shown["button:ok"] = yes
        if question:
            no = tk.Button(box, text="Nej", width=8, command=lambda: close(False))
            no.grid(row=1, column=1, sticky="w", padx=(8, 0))
            shown["button:no"] = no
        box.bind("<Return>", lambda _e: close(True))
        box.bind("<Escape>", lambda _e: close(False))
        # Centred on the main window, as the vendor's dialogs are: where depends on where the window is.
        box.update_idletasks()
        x = self.root.winfo_rootx() + (self.root.winfo_width() - box.winfo_reqwidth()) // 2
        y = self.root.winfo_rooty() + (self.root.winfo_height() - box.winfo_reqheight()) // 3
        box.geometry(f"+{x}+{y}")
        box.grab_set()
        box.focus_force()  # modal: the keyboard goes to the dialog, wherever the pointer is
        yes.focus_set()
        self.named = {**self.named, **shown}
        self.drawn(f"dialog:{kind}", only=shown)
        self.root.wait_window(box)
        self.root.focus_force()  # and back to the main window, as the vendor's client does
        for name in shown:
            self.named.pop(name, None)
        self.drawn(self.screen)  # the screen under the dialog is what shows now
        return answer.get()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The server's answer, or None after telling the user what went wrong (modal, as such clients do)."""
        try:
            response = self.http.request(method, self.url + path, json=body,
                                         headers={"Authorization": f"Bearer {self.token}"} if self.token else {})
        except httpx.HTTPError as exc:
            self.dialog("error", f"Servern svarar inte: {exc}")
            return None
        data: dict[str, Any] = response.json()
        if response.status_code >= 400:
            self.dialog("error", str(data.get("fel", f"Fel {response.status_code}")))
            return None
        return data

    # -- screens --------------------------------------------------------------------------------------------
    def show_login(self) -> None:
        self.clear()
        tk.Label(self.body, text=self.layout["title"], font=BOLD, bg=self.layout["bg"]).grid(
            row=0, column=0, columnspan=2, sticky="w", pady=(0, 10))
        self.label(self.body, "username", self.t("username"), row=1, column=0, sticky="w", pady=3)
        user = self.entry(self.body, "username", width=24, row=1, column=1, padx=8)
        self.label(self.body, "password", self.t("password"), row=2, column=0, sticky="w", pady=3)
        password = self.entry(self.body, "password", width=24, row=2, column=1, padx=8)
        password.configure(show="*")
        self.button(self.body, "login", self.login, row=3, column=1, sticky="e", pady=10)
        password.bind("<Return>", lambda _e: self.login())
        user.focus_set()
        self.status.configure(text="Ej inloggad")
        self.drawn("login")

    def login(self) -> None:
        answer = self.call("POST", "/api/skrivbord/login", {"username": self.entries["username"].get(),
                                                            "password": self.entries["password"].get()})
        if answer is None:
            return
        self.token = answer["token"]
        self.show_search()

    def show_search(self) -> None:
        self.clear()
        self.label(self.body, "case_no", self.t("case_no"), row=0, column=0, sticky="w")
        number = self.entry(self.body, "case_no", width=20, row=0, column=1, padx=8)
        self.button(self.body, "open", self.open_case, row=0, column=2)
        number.bind("<Return>", lambda _e: self.open_case())
        number.focus_set()
        self.status.configure(text="Inloggad")
        self.drawn("search")

    def open_case(self) -> None:
        case_id = self.entries["case_no"].get().strip()
        answer = self.call("GET", f"/api/skrivbord/arende/{case_id}")
        if answer is not None:
            self.case = answer
            self.show_calc()

    def show_calc(self) -> None:
        self.clear()
        bg = self.layout["bg"]
        tk.Label(self.body, text=f"Beräkning  {self.case['case_id']}", font=BOLD, bg=bg).grid(
            row=0, column=0, columnspan=4, sticky="w", pady=(0, 6))
        sections = SECTIONS[self.layout_name]
        columns = int(self.layout["columns"])
        frames = [tk.Frame(self.body, bg=bg) for _ in range(columns)]
        for i, frame in enumerate(frames):
            frame.grid(row=1, column=i, sticky="nw", padx=(0, 24))
        rows = [0] * columns
        for index, (legend, keys) in enumerate(sections):
            col = index % columns
            tk.Label(frames[col], text=legend, font=BOLD, bg=bg).grid(row=rows[col], column=0, sticky="w",
                                                                        pady=(6, 2))
            rows[col] += 1
            for key in keys:
                self.label(frames[col], key, BY_KEY[key].label(self.layout_name), row=rows[col], column=0,
                           sticky="w", pady=1)
                field = self.entry(frames[col], key, row=rows[col], column=1, padx=8, pady=1)
                field.insert(0, self.case["values"].get(key, ""))
                rows[col] += 1
        totals = tk.Frame(self.body, bg=bg)
        totals.grid(row=2, column=0, columnspan=columns, sticky="w", pady=(8, 4))
        for i, key in enumerate(TOTAL_KEYS):  # read-only boxes: they can be selected and copied, not typed in
            self.label(totals, key, TOTAL_LABELS[self.layout_name][key], row=i // 2, column=2 * (i % 2), sticky="w")
            total = self.entry(totals, key, row=i // 2, column=2 * (i % 2) + 1, padx=(8, 24), pady=1)
            total.insert(0, self.case["values"].get(key) or "")
            total.configure(state="readonly", takefocus=0)
        actions = tk.Frame(self.body, bg=bg)
        actions.grid(row=3, column=0, columnspan=columns, sticky="w", pady=(6, 0))
        self.needs_completion = tk.IntVar(value=0)
        check = tk.Checkbutton(actions, text=self.t("needs_completion"), variable=self.needs_completion, bg=bg)
        check.grid(row=0, column=0, padx=(0, 16))
        self.named["button:needs_completion"] = check
        self.button(actions, "save", self.save, row=0, column=1, padx=4)
        self.button(actions, "park", self.park, row=0, column=2, padx=4)
        self.button(actions, "close", self.show_search, row=0, column=3, padx=4)
        first = sections[0][1][0]
        self.entries[first].focus_set()
        self.status.configure(text=f"{self.case['case_id']}  |  Status: {self.case['status_text']}  |  "
                                   f"Version {self.case['version']}")
        self.drawn("calc")

    def save(self) -> None:
        values = {key: entry.get() for key, entry in self.entries.items()}
        answer = self.call("POST", f"/api/skrivbord/arende/{self.case['case_id']}/berakning",
                           {"values": values, "version": self.case["version"]})
        if answer is None:
            return
        self.case = answer
        self.show_calc()
        self.dialog("saved", "Beräkningen är sparad.")

    def park(self) -> None:
        if not self.dialog("confirm_park", "Parkera ärendet för signering?", question=True):
            return
        answer = self.call("POST", f"/api/skrivbord/arende/{self.case['case_id']}/parkera",
                           {"version": self.case["version"], "behover_kompletteras": self.needs_completion.get()})
        if answer is None:
            return
        self.case = answer
        self.show_calc()
        self.dialog("parked", "Ärendet är parkerat för signering.")


def trust(ca_file: Path | None) -> ssl.SSLContext:
    """The system's roots plus `ca_file`; certificates and host names always checked."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portals.desktop", description=__doc__)
    parser.add_argument("--url", required=True, help="the sandbox case system, e.g. https://127.0.0.1:8100")
    parser.add_argument("--ca-file", type=Path, help="a CA to trust besides the system's (the sandbox's test CA)")
    parser.add_argument("--layout", choices=tuple(LAYOUTS), default="v1")
    parser.add_argument("--geometry-file", type=Path, help="write where each label and field is drawn")
    args = parser.parse_args(argv)
    root = tk.Tk()
    Client(root, args.url, args.layout, args.geometry_file, args.ca_file)
    root.mainloop()
    return 0
