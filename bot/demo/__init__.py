"""``meldbot demo``: the whole product in a browser, with no bot token and nothing leaving the machine.

The real bot (:class:`bot.app.Meldbot`, as ``meldbot run`` starts it) runs against the
built-in Bot API emulator on 127.0.0.1, with a demo cast, a fresh encrypted database in
a temporary folder (removed on exit) and a clock that can be moved forward. A web page,
served on 127.0.0.1 only, shows the cast's phones side by side. Municipalities use it to
see what reporters, counsellors and coordinators experience, and to train counsellors
without real data.

Modules: ``cast`` (who is in the demo), ``clock`` (the demo's time), ``run`` (starting
and stopping it all), ``site`` (the page and its API), ``texts`` (the page's own words in
Dutch and English), ``static/`` (the page: plain HTML, CSS and JavaScript).
"""
