"""The web pages' words in English, French and Spanish, and the SDGs' official colours and short names."""

from __future__ import annotations

from functools import cache

LANGUAGES = ("en", "fr", "es")

SDG_COLOURS = {
    1: "#E5243B", 2: "#DDA63A", 3: "#4C9F38", 4: "#C5192D", 5: "#FF3A21", 6: "#26BDE2", 7: "#FCC30B", 8: "#A21942",
    9: "#FD6925", 10: "#DD1367", 11: "#FD9D24", 12: "#BF8B2E", 13: "#3F7E44", 14: "#0A97D9", 15: "#56C02B", 16: "#00689D", 17: "#19486A",
}

# key: (en, fr, es)
TEXT: dict[str, tuple[str, str, str]] = {
    "site": ("Urban practices knowledge base", "Base de connaissances des pratiques urbaines", "Base de conocimiento de prácticas urbanas"),
    "search": ("Search", "Rechercher", "Buscar"),
    "overview": ("Overview", "Vue d'ensemble", "Panorama"),
    "staff": ("Staff", "Équipe", "Equipo"),
    "skip": ("Skip to content", "Aller au contenu", "Ir al contenido"),
    "query_label": ("Search practices and publications, in any language", "Rechercher des pratiques et publications, dans toute langue",
                    "Buscar prácticas y publicaciones, en cualquier idioma"),
    "query_placeholder": ("e.g. women's safety audits of public space", "ex. marches exploratoires de femmes", "p. ej. auditorías de seguridad de mujeres"),
    "filters": ("Filters", "Filtres", "Filtros"),
    "sdg": ("Sustainable Development Goal", "Objectif de développement durable", "Objetivo de Desarrollo Sostenible"),
    "gender": ("Gender perspective", "Perspective de genre", "Perspectiva de género"),
    "with_gender": ("With a gender perspective", "Avec une perspective de genre", "Con perspectiva de género"),
    "language": ("Language", "Langue", "Idioma"),
    "kind": ("Type", "Type", "Tipo"),
    "practice": ("Practice", "Pratique", "Práctica"),
    "publication": ("Publication", "Publication", "Publicación"),
    "region": ("Region", "Région", "Región"),
    "country": ("Country", "Pays", "País"),
    "topic": ("Topic", "Thème", "Tema"),
    "years": ("Years", "Années", "Años"),
    "from": ("from", "de", "desde"),
    "to": ("to", "à", "hasta"),
    "apply": ("Apply", "Appliquer", "Aplicar"),
    "clear": ("Clear all filters", "Effacer les filtres", "Quitar filtros"),
    "results": ("{n} records", "{n} fiches", "{n} registros"),
    "no_results": ("Nothing matches. Try fewer filters, other words, or a question in another language.",
                   "Aucun résultat. Essayez moins de filtres, d'autres mots, ou une question dans une autre langue.",
                   "Sin resultados. Pruebe con menos filtros, otras palabras o una pregunta en otro idioma."),
    "previous": ("Previous", "Précédent", "Anterior"),
    "next": ("Next", "Suivant", "Siguiente"),
    "page": ("Page", "Page", "Página"),
    "suggested": ("suggested", "suggéré", "sugerido"),
    "similar": ("Comparable practices in other cities", "Pratiques comparables dans d'autres villes", "Prácticas comparables en otras ciudades"),
    "cite": ("Cite", "Citer", "Citar"),
    "permalink": ("Permalink", "Lien permanent", "Enlace permanente"),
    "source_pdf": ("Source PDF", "PDF source", "PDF de origen"),
    "full_text": ("Full text", "Texte intégral", "Texto completo"),
    "summary": ("Summary", "Résumé", "Resumen"),
    "organisations": ("Organisations", "Organisations", "Organizaciones"),
    "authors": ("Authors", "Auteurs", "Autores"),
    "website": ("Website", "Site web", "Sitio web"),
    "by_region": ("Practices by region", "Pratiques par région", "Prácticas por región"),
    "by_sdg": ("Records by SDG", "Fiches par ODD", "Registros por ODS"),
    "by_year": ("Records by year", "Fiches par année", "Registros por año"),
    "gender_share": ("Share with a gender perspective", "Part avec une perspective de genre", "Proporción con perspectiva de género"),
    "records_total": ("{n} records from {c} cities in {l} languages", "{n} fiches de {c} villes en {l} langues", "{n} registros de {c} ciudades en {l} idiomas"),
    "review_queue": ("Review queue", "File de revue", "Cola de revisión"),
    "upload": ("Add a publication or record", "Ajouter une publication ou une fiche", "Añadir una publicación o registro"),
    "login": ("Sign in with an API key", "Se connecter avec une clé d'API", "Entrar con una clave de API"),
    "api_key": ("API key", "Clé d'API", "Clave de API"),
    "sign_in": ("Sign in", "Se connecter", "Entrar"),
    "sign_out": ("Sign out", "Se déconnecter", "Salir"),
    "bad_key": ("This key is not valid.", "Cette clé n'est pas valide.", "Esta clave no es válida."),
    "awaiting": ("{n} records await review", "{n} fiches à revoir", "{n} registros por revisar"),
    "curated": ("Curated tags", "Étiquettes validées", "Etiquetas validadas"),
    "suggestions": ("Suggested tags", "Étiquettes suggérées", "Etiquetas sugeridas"),
    "evidence": ("Evidence", "Éléments", "Evidencia"),
    "accept": ("Accept", "Accepter", "Aceptar"),
    "reject": ("Reject", "Rejeter", "Rechazar"),
    "save_edit": ("Save these SDGs", "Enregistrer ces ODD", "Guardar estos ODS"),
    "edit_sdgs": ("Edit curated SDGs", "Modifier les ODD validés", "Editar ODS validados"),
    "history": ("History", "Historique", "Historial"),
    "pdf_file": ("PDF file", "Fichier PDF", "Archivo PDF"),
    "or_json": ("or a record as JSON", "ou une fiche en JSON", "o un registro en JSON"),
    "send": ("Add", "Ajouter", "Añadir"),
    "score": ("score", "score", "puntuación"),
    "status": ("status", "statut", "estado"),
    "feed": ("Follow this search (Atom feed)", "Suivre cette recherche (flux Atom)", "Seguir esta búsqueda (feed Atom)"),
    "embed": ("Embed these results", "Intégrer ces résultats", "Insertar estos resultados"),
    "more": ("More results", "Plus de résultats", "Más resultados"),
    "all": ("All", "Tous", "Todos"),
    "yes": ("yes", "oui", "sí"),
    "no": ("no", "non", "no"),
}


def translate(key: str, ui: str, **values) -> str:
    text = TEXT[key][LANGUAGES.index(ui) if ui in LANGUAGES else 0]
    return text.format(**values) if values else text


@cache
def sdg_names() -> dict[str, dict[int, str]]:
    """Official short names of the goals per interface language."""
    from index.tag_model import goal_data

    return {lang: {k: v["title"][lang] for k, v in goal_data().items()} for lang in LANGUAGES}


def pick_language(requested: str | None, cookie: str | None, accept_language: str | None) -> str:
    """?ui= wins, then the cookie the switcher set, then the browser's Accept-Language, then English."""
    for candidate in (requested, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
