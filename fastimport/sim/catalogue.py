"""The simulated shop's French catalogue, tax rates and customers (deterministic from the seed).

Prices are in integer cents, tax included (``prices_include_tax`` is true, as in most French shops).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

# tax_class -> (rate_id, percent as a string WooCommerce would show, label)
TAX_RATES: dict[str, tuple[int, str, str]] = {
    "": (1, "20", "TVA 20 %"),
    "taux-reduit": (2, "10", "TVA 10 %"),
    "taux-reduit-5-5": (3, "5.5", "TVA 5,5 %"),
    "taux-particulier": (4, "2.1", "TVA 2,1 %"),
}
STANDARD = ""

# (name, sku stem, tax_class, [(format label, sku suffix, price in cents)])
_BASES: list[tuple[str, str, str, list[tuple[str, str, int]]]] = [
    ("Thé vert Sencha", "THE-SEN", "taux-reduit-5-5", [("100 g", "100", 890), ("250 g", "250", 1990)]),
    ("Thé noir Darjeeling", "THE-DAR", "taux-reduit-5-5", [("100 g", "100", 1090), ("250 g", "250", 2490)]),
    ("Thé Earl Grey à la bergamote", "THE-EGR", "taux-reduit-5-5", [("100 g", "100", 790)]),
    ("Rooibos vanille", "ROO-VAN", "taux-reduit-5-5", [("100 g", "100", 750), ("500 g", "500", 2990)]),
    (
        "Infusion verveine-menthe",
        "INF-VER",
        "taux-reduit-5-5",
        [("50 g", "050", 590), ("150 g", "150", 1490)],
    ),
    ("Café moulu Éthiopie Moka", "CAF-ETH", "taux-reduit-5-5", [("250 g", "250", 990), ("1 kg", "1K", 3490)]),
    ("Café en grains Brésil", "CAF-BRE", "taux-reduit-5-5", [("250 g", "250", 890), ("1 kg", "1K", 2990)]),
    (
        "Chocolat noir 70 % cacao",
        "CHO-N70",
        "taux-reduit-5-5",
        [("100 g", "100", 450), ("Lot de 5", "L5", 1990)],
    ),
    ("Pâte à tartiner noisette", "PAT-NOI", "taux-reduit-5-5", [("350 g", "350", 690)]),
    (
        "Miel de lavande de Provence",
        "MIE-LAV",
        "taux-reduit-5-5",
        [("250 g", "250", 790), ("500 g", "500", 1390)],
    ),
    ("Confiture fraise-rhubarbe", "CON-FRA", "taux-reduit-5-5", [("320 g", "320", 550)]),
    (
        "Huile d'olive vierge extra",
        "HUI-OLI",
        "taux-reduit-5-5",
        [("50 cl", "50", 1290), ("1 L", "1L", 2290)],
    ),
    ("Sel de Guérande fleur de sel", "SEL-GUE", "taux-reduit-5-5", [("125 g", "125", 490)]),
    ("Biscuits sablés au beurre", "BIS-SAB", "taux-reduit-5-5", [("200 g", "200", 390)]),
    ("Calissons d'Aix", "CAL-AIX", "taux-reduit-5-5", [("Boîte 250 g", "250", 1590)]),
    ("Nougat de Montélimar", "NOU-MON", "taux-reduit-5-5", [("150 g", "150", 790), ("300 g", "300", 1450)]),
    ("Livre « Cuisine de nos grands-mères »", "LIV-CUI", "taux-reduit-5-5", [("Broché", "BR", 2490)]),
    ("Livre « Le thé, histoire et rituels »", "LIV-THE", "taux-reduit-5-5", [("Broché", "BR", 1990)]),
    ("Guide des vins de Loire", "LIV-VIN", "taux-reduit-5-5", [("Édition 2025", "25", 1500)]),
    (
        "Jus de pomme artisanal",
        "JUS-POM",
        "taux-reduit-5-5",
        [("1 L", "1L", 450), ("Carton de 6", "C6", 2490)],
    ),
    ("Limonade à l'ancienne", "LIM-ANC", "taux-reduit-5-5", [("75 cl", "75", 350)]),
    ("Cidre brut de Normandie", "CID-BRU", "", [("75 cl", "75", 690), ("Carton de 6", "C6", 3790)]),
    ("Vin rouge Côtes-du-Rhône", "VIN-CDR", "", [("75 cl", "75", 1190), ("Carton de 6", "C6", 6490)]),
    ("Crémant d'Alsace brut", "VIN-CRE", "", [("75 cl", "75", 1490)]),
    (
        "Tasse en grès émaillé",
        "TAS-GRE",
        "",
        [("Bleu", "BLE", 1490), ("Vert", "VER", 1490), ("Blanc", "BLA", 1390)],
    ),
    ("Théière en fonte japonaise", "THI-FON", "", [("0,8 L", "08", 5990), ("1,2 L", "12", 7490)]),
    ("Bol à thé matcha", "BOL-MAT", "", [("Céramique", "CER", 2490)]),
    ("Fouet en bambou chasen", "FOU-BAM", "", [("80 brins", "80", 1890)]),
    ("Boîte à thé en métal", "BOI-MET", "", [("100 g", "100", 990), ("250 g", "250", 1490)]),
    ("Filtre à thé en inox", "FIL-INO", "", [("Taille unique", "U", 690)]),
    ("Carafe en verre soufflé", "CAR-VER", "", [("1 L", "1L", 3290)]),
    ("Plateau en chêne massif", "PLA-CHE", "", [("40 cm", "40", 4590)]),
    ("Torchon en lin lavé", "TOR-LIN", "", [("Naturel", "NAT", 1290), ("Rayé bleu", "RAY", 1390)]),
    ("Tablier de cuisine en coton", "TAB-COT", "", [("Écru", "ECR", 2490)]),
    ("Bougie parfumée figue", "BOU-FIG", "", [("180 g", "180", 2290)]),
    (
        "Savon de Marseille à l'huile d'olive",
        "SAV-MAR",
        "",
        [("300 g", "300", 490), ("Lot de 3", "L3", 1290)],
    ),
    ("Crème mains à l'huile d'olive", "CRE-MAI", "", [("75 ml", "75", 890)]),
    ("Baume à lèvres au miel", "BAU-LEV", "", [("15 ml", "15", 590)]),
    ("Eau de Cologne fleur d'oranger", "EAU-COL", "", [("100 ml", "100", 2490)]),
    ("Carte cadeau", "CAR-CAD", "", [("25 €", "25", 2500), ("50 €", "50", 5000)]),
    ("Coffret dégustation « Tour du monde »", "COF-TDM", "taux-reduit-5-5", [("12 thés", "12", 3490)]),
    ("Sirop d'érable bio", "SIR-ERA", "taux-reduit-5-5", [("250 ml", "250", 990)]),
    ("Magazine « Saveurs » n° 42", "MAG-SAV", "taux-particulier", [("Numéro", "42", 690)]),
    ("Journal « Le Petit Gourmet »", "JOU-GOU", "taux-particulier", [("Numéro", "N", 250)]),
    ("Médicament homéopathique Arnica", "MED-ARN", "taux-particulier", [("Tube", "T", 390)]),
    ("Plante aromatique en pot — basilic", "PLA-BAS", "taux-reduit", [("Pot 10 cm", "10", 490)]),
    ("Bouquet de fleurs séchées", "BOU-SEC", "taux-reduit", [("Petit", "P", 1990), ("Grand", "G", 3490)]),
    ("Atelier dégustation (entrée)", "ATE-DEG", "taux-reduit", [("1 personne", "1P", 3500)]),
    ("Repas à emporter : quiche lorraine", "REP-QUI", "taux-reduit", [("Part", "P", 650)]),
    ("Sandwich jambon-beurre", "REP-SAN", "taux-reduit", [("Unité", "U", 550)]),
]

# Variable products: (name, sku stem, tax_class, price, attribute taxonomy, attribute name, options)
_VARIABLE: list[tuple[str, str, str, int, str, str, list[tuple[str, str]]]] = [
    (
        "T-shirt coton bio « Thé ou café ? »",
        "TSH-BIO",
        "",
        2490,
        "pa_taille",
        "Taille",
        [("S", "s"), ("M", "m"), ("L", "l"), ("XL", "xl")],
    ),
    (
        "Sweat à capuche brodé",
        "SWE-BRO",
        "",
        4990,
        "pa_taille",
        "Taille",
        [("S", "s"), ("M", "m"), ("L", "l"), ("XL", "xl")],
    ),
    (
        "Tote bag en toile",
        "TOT-TOI",
        "",
        1290,
        "pa_couleur",
        "Couleur",
        [("Écru", "ecru"), ("Noir", "noir"), ("Vert sauge", "vert-sauge")],
    ),
    (
        "Mug émaillé camping",
        "MUG-EMA",
        "",
        1690,
        "pa_couleur",
        "Couleur",
        [("Blanc", "blanc"), ("Bleu nuit", "bleu-nuit"), ("Rouge", "rouge")],
    ),
    (
        "Tablier brodé au prénom",
        "TAB-BRO",
        "",
        3290,
        "pa_couleur",
        "Couleur",
        [("Lin", "lin"), ("Moutarde", "moutarde")],
    ),
]


@dataclass
class Variation:
    id: int
    parent_id: int
    sku: str
    option: str  # display value, e.g. "M"
    slug: str  # attribute term slug, e.g. "m"
    price: int
    stock: int


@dataclass
class Product:
    id: int
    name: str
    sku: str
    type: str  # "simple" | "variable"
    tax_class: str
    price: int  # cents, tax included
    stock: int
    manage_stock: bool
    listed: bool = True  # False: a product deleted from /products (orders still show its SKU)
    attribute: str = ""  # e.g. "pa_taille"
    attribute_name: str = ""  # e.g. "Taille"
    variations: list[Variation] = field(default_factory=list)


@dataclass(frozen=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    address_1: str
    city: str
    postcode: str


FIRST_NAMES = [
    "Amélie",
    "Benoît",
    "Cécile",
    "Clémence",
    "Élodie",
    "Émile",
    "François",
    "Gaëlle",
    "Hélène",
    "Jérôme",
    "Joël",
    "Léa",
    "Léon",
    "Maëlys",
    "Noémie",
    "Océane",
    "Raphaël",
    "Sébastien",
    "Stéphanie",
    "Thérèse",
    "Zoé",
    "Chloé",
    "Anaïs",
    "Loïc",
    "Valérie",
    "Frédéric",
    "André",
    "Inès",
    "Mathéo",
    "Agnès",
]
LAST_NAMES = [
    "Lefèvre",
    "Bézier",
    "Côté",
    "Dupré",
    "Fabré",
    "Gérard",
    "Hébert",
    "Lemaître",
    "Mézières",
    "Pâris",
    "Rémy",
    "Thébault",
    "Vézina",
    "Chéreau",
    "Bœuf",
    "Müller",
    "Le Goff",
    "Martin",
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Lambert",
    "Rousseau",
    "Fontaine",
    "Garçon",
    "Labbé",
    "Brûlé",
    "Crépin",
]
STREETS = [
    "rue de la Paix",
    "avenue Jean-Jaurès",
    "place de l'Église",
    "rue du Général-de-Gaulle",
    "chemin des Écoliers",
    "boulevard Saint-Michel",
    "rue Émile-Zola",
    "allée des Tilleuls",
    "impasse du Moulin",
    "quai de la Loire",
]
CITIES = [
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13006"),
    ("Nantes", "44000"),
    ("Besançon", "25000"),
    ("Orléans", "45000"),
    ("Saint-Étienne", "42000"),
    ("Nîmes", "30000"),
    ("Angoulême", "16000"),
    ("Fontainebleau", "77300"),
    ("Évreux", "27000"),
    ("Châteauroux", "36000"),
    ("Sète", "34200"),
    ("Montréal-la-Cluse", "01460"),
    ("Aix-en-Provence", "13100"),
    ("Lille", "59000"),
]
COMPANIES = ["", "", "", "", "", "SARL Les Délices", "Épicerie Fine Côté Jardin", "Café des Arts SAS"]


def ascii_slug(text: str) -> str:
    """ "Amélie Lefèvre" -> "amelie-lefevre" (for e-mail addresses and slugs)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in plain.lower()).split())


def build_products(seed: int) -> list[Product]:
    """About 200 products: each base in each format plus variable products, and a few unlisted ones."""
    rng = random.Random(seed * 7919 + 1)
    products: list[Product] = []
    next_id = 100  # WordPress posts share one id space, so product ids have gaps
    for name, stem, tax_class, formats in _BASES:
        for label, suffix, price in formats:
            for edition, sku_end in (("", ""), (" – édition limitée", "-LTD"), (" (recharge)", "-REC")):
                if edition and rng.random() < 0.3:
                    continue
                next_id += rng.randint(1, 4)
                products.append(
                    Product(
                        id=next_id,
                        name=f"{name} {label}{edition}",
                        sku=f"{stem}-{suffix}{sku_end}",
                        type="simple",
                        tax_class=tax_class,
                        price=price + (200 if sku_end == "-LTD" else -100 if sku_end == "-REC" else 0),
                        stock=rng.randint(0, 120),
                        manage_stock=rng.random() < 0.9,
                    )
                )
    for name, stem, tax_class, price, attr, attr_name, options in _VARIABLE:
        next_id += rng.randint(1, 4)
        parent = Product(
            id=next_id,
            name=name,
            sku=stem,
            type="variable",
            tax_class=tax_class,
            price=price,
            stock=0,
            manage_stock=False,
            attribute=attr,
            attribute_name=attr_name,
        )
        for option, slug in options:
            next_id += 1
            parent.variations.append(
                Variation(
                    next_id, parent.id, f"{stem}-{slug.upper()}", option, slug, price, rng.randint(0, 40)
                )
            )
        products.append(parent)
    # Products sold once but since removed from the catalogue: their SKUs are unknown to /products.
    for k, (name, sku, price) in enumerate(
        [
            ("Thé blanc Pai Mu Tan 50 g", "THE-PMT-050", 1290),
            ("Coffret Noël 2023", "COF-NOE-23", 3990),
            ("Tasse « Édition anniversaire »", "TAS-ANN", 1790),
            ("Madeleines pur beurre", "MAD-PBE", 490),
        ]
    ):
        next_id += 3
        products.append(
            Product(
                next_id,
                name,
                sku,
                "simple",
                "taux-reduit-5-5" if k % 2 == 0 else "",
                price,
                0,
                False,
                listed=False,
            )
        )
    return products


def build_customers(seed: int, count: int) -> list[Customer]:
    """Registered customers (ids from 2: user 1 is the shop admin)."""
    rng = random.Random(seed * 104729 + 2)
    customers: list[Customer] = []
    for k in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, postcode = rng.choice(CITIES)
        domain = rng.choice(["orange.fr", "free.fr", "gmail.com", "laposte.net", "wanadoo.fr"])
        customers.append(
            Customer(
                id=2 + k,
                first_name=first,
                last_name=last,
                email=f"{ascii_slug(first)}.{ascii_slug(last)}{k}@{domain}",
                phone=f"0{rng.choice('67')} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                company=rng.choice(COMPANIES),
                address_1=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                city=city,
                postcode=postcode,
            )
        )
    return customers
