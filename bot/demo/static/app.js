// meldbot demo page: draws each phone's chat as a Telegram app would, and lets people type and press.
// Every text is put in the page as text (textContent), never as HTML: formatting comes from the
// message entities the Bot API emulator produced, exactly as a Telegram app receives them.
"use strict";

(() => {
  const NARROW = window.matchMedia("(max-width: 760px)");
  const SAFE_SCHEMES = ["http:", "https:", "mailto:", "tg:"];
  const params = new URLSearchParams(window.location.search);
  let lang = params.get("lang") === "en" ? "en" : "nl";
  let texts = {};
  let data = null;
  let active = null; // the phone shown on a narrow screen
  const shown = new Set();
  const seen = {}; // phone key -> number of bot messages already seen on the page
  const drawn = {}; // phone key -> the elements of its phone
  let loading = false;
  let again = false;

  const $ = (id) => document.getElementById(id);
  const t = (key) => (texts[lang] && texts[lang][key]) || key;
  const locale = () => (lang === "nl" ? "nl-NL" : "en-GB");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Meldbot-Demo": "1" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  // -- loading ----------------------------------------------------------------------------------
  async function refresh() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const response = await fetch("/api/state");
      data = await response.json();
      if (shown.size === 0) {
        data.phones.filter((p) => p.shown).forEach((p) => shown.add(p.key));
        active = data.phones.find((p) => p.shown).key;
        // What was there before the page opened (the staff's welcome) is not news.
        data.phones.forEach((p) => { seen[p.key] = p.bot_messages; });
      }
      render();
    } finally {
      loading = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  // -- the page around the phones ------------------------------------------------------------------
  function renderChrome() {
    document.documentElement.lang = lang;
    document.title = t("title");
    $("title").textContent = t("title");
    $("intro").textContent = t("intro");
    $("clock-label").textContent = t("clock");
    for (const step of ["hour", "day", "week", "next"]) $(`step-${step}`).textContent = t(`forward_${step}`);
    $("due-title").textContent = t("due_title");
    $("add-label").textContent = t("phones_add");
    $("language").textContent = t("language");
    $("lost").textContent = t("connection_lost");
  }

  function formatMoment(seconds, options) {
    return new Intl.DateTimeFormat(locale(), { timeZone: data.zone, ...options }).format(new Date(seconds * 1000));
  }

  function relative(seconds) {
    const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
    const minutes = Math.round(seconds / 60);
    if (Math.abs(minutes) < 90) return rtf.format(minutes, "minute");
    const hours = Math.round(seconds / 3600);
    if (Math.abs(hours) < 36) return rtf.format(hours, "hour");
    return rtf.format(Math.round(seconds / 86400), "day");
  }

  function renderClock() {
    $("clock-now").textContent = formatMoment(data.now, {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    });
    const list = $("due-list");
    const items = data.due.map((thing) => {
      const label = thing.source === "outbox" ? `${t("due_outbox")} (${thing.kind})` : t(`due_${thing.kind}`);
      const li = el("li", null, `${label} `);
      const when = formatMoment(thing.at, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
      li.append(el("span", "when", `· ${relative(thing.at - data.now)} (${when})`));
      return li;
    });
    list.replaceChildren(...(items.length ? items : [el("li", "when", t("due_none"))]));
  }

  function phoneByKey(key) {
    return data.phones.find((p) => p.key === key);
  }

  function visible(key) {
    return shown.has(key) && (!NARROW.matches || key === active);
  }

  function unread(phone) {
    return Math.max(0, phone.bot_messages - (seen[phone.key] || 0));
  }

  function renderAddMenu() {
    const select = $("add-phone");
    const options = [el("option", null, "—")];
    options[0].value = "";
    for (const phone of data.phones) {
      if (shown.has(phone.key)) continue;
      const count = unread(phone);
      const option = el("option", null, `${phone.name}: ${t(`role_${phone.role}`)}${count ? ` (${count})` : ""}`);
      option.value = phone.key;
      options.push(option);
    }
    select.replaceChildren(...options);
    select.disabled = options.length === 1;
  }

  function renderTabs() {
    const tabs = data.phones.filter((p) => shown.has(p.key)).map((phone) => {
      const tab = el("button", phone.key === active ? "active" : null, phone.name.split(" ")[0]);
      tab.type = "button";
      tab.dataset.tab = phone.key;
      const count = phone.key === active ? 0 : unread(phone);
      if (count) tab.append(el("span", "badge", String(count)));
      tab.addEventListener("click", () => choose(phone.key));
      return tab;
    });
    $("tabs").replaceChildren(...tabs);
  }

  function choose(key) {
    active = key;
    render();
  }

  // -- phones ------------------------------------------------------------------------------------------
  function render() {
    renderChrome();
    renderClock();
    const container = $("phones");
    let place = 0;
    for (const phone of data.phones) {
      if (!shown.has(phone.key)) {
        if (drawn[phone.key]) {
          drawn[phone.key].root.remove();
          delete drawn[phone.key];
        }
        continue;
      }
      const parts = drawn[phone.key] || buildPhone(phone);
      // In the cast's order; a phone already in its place is not moved (moving it would lose its scrolling).
      if (container.children[place] !== parts.root) container.insertBefore(parts.root, container.children[place] || null);
      place += 1;
      parts.root.classList.toggle("active", phone.key === active);
      parts.hide.hidden = shown.size < 2;
      updatePhone(phone, parts);
      if (visible(phone.key)) seen[phone.key] = phone.bot_messages;
    }
    renderTabs();
    renderAddMenu();
  }

  function buildPhone(phone) {
    const root = el("section", "phone");
    root.dataset.phone = phone.key;
    const head = el("div", "phone-head");
    const initials = phone.name.split(" ").map((w) => w[0]).filter((c) => c === c.toUpperCase()).join("").slice(0, 2);
    const who = el("div", "who");
    who.append(el("div", "name", phone.name), el("div", "role", t(`role_${phone.role}`)));
    const hide = el("button", "hide", t("phones_hide"));
    hide.type = "button";
    hide.addEventListener("click", () => {
      shown.delete(phone.key);
      if (active === phone.key) active = [...shown][0];
      render();
    });
    head.append(el("div", "avatar", initials), who, hide);
    const title = el("div", "chat-title", data.bot_name);
    const messages = el("div", "messages");
    const commands = el("ul", "commands");
    commands.hidden = true;

    const composer = el("div", "composer");
    const menu = el("button", "menu", t("compose_menu"));
    menu.type = "button";
    menu.addEventListener("click", () => { commands.hidden = !commands.hidden; });
    const input = el("textarea");
    input.rows = 1;
    input.placeholder = t("compose_placeholder");
    input.setAttribute("aria-label", t("compose_placeholder"));
    const file = el("input");
    file.type = "file";
    const attach = el("button", "round attach", "📎");
    attach.type = "button";
    attach.title = t("compose_attach");
    attach.setAttribute("aria-label", t("compose_attach"));
    attach.addEventListener("click", () => file.click());
    file.addEventListener("change", () => upload(phone.key, file, input));
    const send = el("button", "round send", "➤");
    send.type = "button";
    send.title = t("compose_send");
    send.setAttribute("aria-label", t("compose_send"));
    const sendTyped = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      say(phone.key, text);
    };
    send.addEventListener("click", sendTyped);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        sendTyped();
      }
    });
    composer.append(menu, input, attach, file, send);
    const start = el("button", "start", t("compose_start"));
    start.type = "button";
    start.addEventListener("click", () => say(phone.key, "/start"));
    root.append(head, title, messages, commands, composer, start);
    const parts = {
      root, hide, messages, commands, composer, start, signature: "", count: 0, menuSignature: "", pinned: true,
    };
    // A chat stays at its newest message unless the person scrolled up to read, as in Telegram.
    messages.addEventListener("scroll", () => {
      parts.pinned = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 60;
    });
    new ResizeObserver(() => {
      if (parts.pinned) messages.scrollTop = messages.scrollHeight;
    }).observe(messages);
    drawn[phone.key] = parts;
    return parts;
  }

  function updatePhone(phone, parts) {
    const empty = phone.messages.length === 0;
    parts.start.hidden = !empty;
    parts.composer.hidden = empty;

    const menuSignature = JSON.stringify(phone.commands);
    if (menuSignature !== parts.menuSignature) {
      parts.menuSignature = menuSignature;
      parts.commands.replaceChildren(...phone.commands.map((c) => {
        const item = el("li");
        const button = el("button");
        button.type = "button";
        button.append(el("span", "command-name", `/${c.command}`), ` ${c.description}`);
        button.addEventListener("click", () => {
          parts.commands.hidden = true;
          say(phone.key, `/${c.command}`);
        });
        item.append(button);
        return item;
      }));
    }

    const signature = JSON.stringify(phone.messages);
    if (signature === parts.signature) return;
    parts.signature = signature;
    const box = parts.messages;
    const nodes = [];
    let lastDay = null;
    for (const message of phone.messages) {
      const day = formatMoment(message.date, { weekday: "long", day: "numeric", month: "long" });
      if (day !== lastDay) {
        nodes.push(el("div", "day", day));
        lastDay = day;
      }
      nodes.push(drawMessage(phone.key, message));
    }
    const scrolled = box.scrollTop;
    box.replaceChildren(...nodes);
    if (parts.pinned || phone.messages.length > parts.count) {
      box.scrollTop = box.scrollHeight;
      parts.pinned = true;
    } else {
      box.scrollTop = scrolled;
    }
    parts.count = phone.messages.length;
  }

  function drawMessage(key, message) {
    const wrap = el("div", `msg ${message.from_bot ? "bot" : "me"}`);
    wrap.dataset.id = String(message.id);
    const bubble = el("div", "bubble");
    if (message.media) bubble.append(drawMedia(message.media));
    if (message.text) {
      const text = el("div", "text");
      text.append(renderText(key, message.text, message.entities || []));
      bubble.append(text);
    }
    const meta = [];
    if (message.protected) meta.push("🔒");
    if (message.edited) meta.push(t("message_edited"));
    meta.push(formatMoment(message.date, { hour: "2-digit", minute: "2-digit" }));
    const metaLine = el("div", "meta", meta.join(" "));
    if (message.protected) metaLine.title = t("message_protected");
    bubble.append(metaLine);
    wrap.append(bubble);
    if (message.keyboard.length) wrap.append(drawKeyboard(key, message));
    return wrap;
  }

  function drawMedia(media) {
    const box = el("div", "media");
    if (media.image) {
      const img = el("img");
      img.src = media.url;
      img.alt = t("message_photo");
      box.append(img);
    } else {
      const link = el("a", "file", `📄 ${media.name || t("message_file")}`);
      link.href = media.url;
      link.download = media.name || "";
      box.append(link);
    }
    return box;
  }

  function safeUrl(text) {
    try {
      const url = new URL(text.includes(":") ? text : `https://${text}`);
      return SAFE_SCHEMES.includes(url.protocol) ? url.href : null;
    } catch {
      return null;
    }
  }

  function link(href, children) {
    const url = safeUrl(href);
    const node = el(url ? "a" : "span");
    if (url) {
      node.href = url;
      node.target = "_blank";
      node.rel = "noopener noreferrer";
    }
    node.append(...children);
    return node;
  }

  // Telegram's entities nest (they come from HTML); offsets and lengths count UTF-16 units, as JavaScript does.
  function renderText(key, text, entities) {
    const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
    let next = 0;
    function build(start, end) {
      const out = [];
      let pos = start;
      while (next < sorted.length && sorted[next].offset < end) {
        const entity = sorted[next++];
        const from = Math.max(entity.offset, pos);
        const to = Math.min(entity.offset + entity.length, end);
        if (to <= from) continue;
        if (from > pos) out.push(text.slice(pos, from));
        out.push(entityNode(key, entity, text.slice(from, to), build(from, to)));
        pos = to;
      }
      if (pos < end) out.push(text.slice(pos, end));
      return out;
    }
    const fragment = document.createDocumentFragment();
    fragment.append(...build(0, text.length));
    return fragment;
  }

  function entityNode(key, entity, raw, children) {
    const tags = { bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre" };
    if (tags[entity.type]) {
      const node = el(tags[entity.type]);
      node.append(...children);
      return node;
    }
    switch (entity.type) {
      case "blockquote":
      case "expandable_blockquote": {
        const node = el("blockquote");
        node.append(...children);
        return node;
      }
      case "spoiler": {
        const node = el("span", "spoiler");
        node.append(...children);
        node.addEventListener("click", () => node.classList.add("open"));
        return node;
      }
      case "text_link":
        return link(entity.url || "", children);
      case "url":
        return link(raw, children);
      case "email":
        return link(`mailto:${raw}`, children);
      case "bot_command": {
        const node = el("span", "command");
        node.append(...children);
        node.addEventListener("click", () => say(key, raw));
        return node;
      }
      default: {
        const node = el("span");
        node.append(...children);
        return node;
      }
    }
  }

  function drawKeyboard(key, message) {
    const board = el("div", "keyboard");
    for (const row of message.keyboard) {
      const line = el("div", "row");
      for (const button of row) {
        if (button.data) {
          const node = el("button", "key", button.text);
          node.type = "button";
          node.addEventListener("click", () => press(key, message.id, button.data, board));
          line.append(node);
        } else if (button.url && safeUrl(button.url)) {
          const node = el("a", null, `${button.text} ↗`);
          node.href = safeUrl(button.url);
          node.target = "_blank";
          node.rel = "noopener noreferrer";
          line.append(node);
        } else {
          line.append(el("button", "key", button.text));
        }
      }
      board.append(line);
    }
    return board;
  }

  // -- what a person does -----------------------------------------------------------------------------
  async function say(key, text) {
    try {
      await post("/api/send", { phone: key, text });
    } catch {
      toast(key, t("failed"));
    }
  }

  async function press(key, messageId, callbackData, board) {
    board.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const answer = await post("/api/press", { phone: key, message_id: messageId, data: callbackData });
      if (answer.toast) (answer.alert ? alertBox : toast)(key, answer.toast);
    } catch {
      toast(key, t("failed"));
    } finally {
      board.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  async function upload(key, input, caption) {
    const chosen = input.files && input.files[0];
    if (!chosen) return;
    const form = new FormData();
    form.append("phone", key);
    form.append("caption", caption.value.trim());
    form.append("file", chosen, chosen.name);
    caption.value = "";
    input.value = "";
    const response = await fetch("/api/upload", { method: "POST", headers: { "X-Meldbot-Demo": "1" }, body: form });
    if (!response.ok) toast(key, t("failed"));
  }

  function toast(key, text) {
    const parts = drawn[key];
    if (!parts) return;
    const note = el("div", "toast", text);
    note.setAttribute("role", "status");
    parts.root.append(note);
    window.setTimeout(() => note.remove(), 2500);
  }

  function alertBox(key, text) {
    const parts = drawn[key];
    if (!parts) return;
    const overlay = el("div", "alert");
    overlay.setAttribute("role", "alertdialog");
    const box = el("div", null, text);
    const ok = el("button", null, t("alert_ok"));
    ok.type = "button";
    ok.addEventListener("click", () => overlay.remove());
    box.append(ok);
    overlay.append(box);
    parts.root.append(overlay);
  }

  // -- controls ---------------------------------------------------------------------------------------------
  function wire() {
    document.querySelectorAll("[data-step]").forEach((button) => {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await post("/api/clock", { step: button.dataset.step });
        } finally {
          button.disabled = false;
        }
        refresh();
      });
    });
    $("add-phone").addEventListener("change", (event) => {
      const key = event.target.value;
      if (!key) return;
      shown.add(key);
      active = key;
      render();
    });
    $("language").addEventListener("click", () => {
      lang = lang === "nl" ? "en" : "nl";
      const url = new URL(window.location.href);
      url.searchParams.set("lang", lang);
      window.history.replaceState(null, "", url);
      for (const key of Object.keys(drawn)) {
        drawn[key].root.remove();
        delete drawn[key];
      }
      render();
    });
    NARROW.addEventListener("change", () => render());
    let touchX = null;
    $("phones").addEventListener("touchstart", (event) => { touchX = event.touches[0].clientX; }, { passive: true });
    $("phones").addEventListener("touchend", (event) => {
      if (touchX === null || !NARROW.matches) return;
      const dx = event.changedTouches[0].clientX - touchX;
      touchX = null;
      if (Math.abs(dx) < 60) return;
      const order = data.phones.filter((p) => shown.has(p.key)).map((p) => p.key);
      const at = order.indexOf(active) + (dx < 0 ? 1 : -1);
      if (at >= 0 && at < order.length) choose(order[at]);
    });
    const events = new EventSource("/api/events");
    events.onmessage = () => refresh();
    events.onerror = () => { $("lost").hidden = false; };
    events.onopen = () => { $("lost").hidden = true; refresh(); };
  }

  async function start() {
    texts = await (await fetch("/api/texts")).json();
    wire();
    await refresh();
  }

  start();
})();
