"""The review web app (`plancheck serve`): the worklist, the check page, dispositions and sign-off over
the results database, through a small JSON API. Server-rendered (Jinja2, autoescape on), behind log-in."""
