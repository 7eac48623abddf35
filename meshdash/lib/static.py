"""Static files under content-hashed names, so that whitenoise can let browsers keep them for a
year (``Cache-Control: max-age=315360000, public, immutable``) and a new release still reaches
them at once: the names come from the manifest ``collectstatic`` writes into STATIC_ROOT."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed manifest storage; where ``collectstatic`` never ran (a checkout
    served through the finders: tests, ``make dev``) there is no manifest, and the plain names
    are used, as the finders serve them."""

    def stored_name(self, name):
        if not self.hashed_files:
            return name
        return super().stored_name(name)
