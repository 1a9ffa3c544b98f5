"""One page-object driver per portal. Flow code calls intent-named methods; selectors stay in selectors/."""
