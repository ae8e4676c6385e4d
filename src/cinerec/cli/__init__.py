"""The command line: ``cinerec`` (:mod:`.main`) and its sub-commands.

:mod:`.main` builds Settings and calls a service per command; :mod:`.reviews` (``cinerec
reviews``), :mod:`.embed` (``cinerec embed``) and :mod:`.evaluate` (``cinerec evaluate``) hold
the larger command groups. Nothing outside ``cli`` imports from here.
"""
