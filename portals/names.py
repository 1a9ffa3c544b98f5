"""Name and address material for the synthetic households.

Common first and last names as they occur in a Swedish town today (Swedish ones and the names of families
who came from elsewhere), combined at random, so no generated person is anyone in particular. Streets are
typical town-centre street names with Trelleborg postcodes, because the robot imitates Trelleborg's.
"""

from __future__ import annotations

FEMALE_FIRST: tuple[str, ...] = (
    "Anna", "Eva", "Maria", "Karin", "Sara", "Emma", "Lena", "Kristina", "Elin", "Ida", "Johanna", "Malin",
    "Linnéa", "Julia", "Hanna", "Sofia", "Frida", "Camilla", "Jenny", "Therese", "Amanda", "Matilda", "Moa",
    "Wilma", "Ebba", "Elsa", "Alice", "Maja", "Saga", "Astrid", "Ella", "Selma", "Alva", "Vera", "Agnes",
    "Åsa", "Märta", "Birgitta", "Ingrid", "Marie", "Susanne", "Renée", "Lovisa", "Tove", "Nellie",
    "Fatima", "Amina", "Leila", "Noor", "Zainab", "Mariam", "Hodan", "Fadumo", "Aisha", "Yasmin", "Rania",
    "Jasmina", "Mirela", "Katarzyna", "Aleksandra", "Elif", "Zeynep", "Linh", "Dalia", "Shirin", "Nasrin",
)

MALE_FIRST: tuple[str, ...] = (
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Jonas", "Mikael", "Fredrik", "Daniel", "Marcus",
    "Andreas", "Mattias", "Oskar", "Viktor", "Emil", "Gustav", "Axel", "Hugo", "Liam", "William", "Noah",
    "Lucas", "Elias", "Adam", "Theo", "Isak", "Leo", "Albin", "Vilgot", "Sixten", "Måns", "Björn", "Göran",
    "Örjan", "Håkan", "Stefan", "Patrik", "Tobias", "André", "Kenneth", "Rasmus", "Linus", "Melvin",
    "Mohammed", "Ali", "Ahmed", "Hassan", "Omar", "Yusuf", "Ibrahim", "Abdi", "Mustafa", "Karim", "Samir",
    "Emir", "Dragan", "Piotr", "Tomasz", "Mehmet", "Can", "Minh", "Reza", "Dawit", "Yonas",
)

LAST: tuple[str, ...] = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
    "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Jakobsson",
    "Magnusson", "Olofsson", "Lindström", "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg",
    "Lind", "Lundgren", "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson",
    "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk",
    "Bergman", "Gunnarsson", "Holm", "Samuelsson", "Wikström", "Fransson", "Isaksson", "Nyström", "Holmberg",
    "Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson", "Nordström", "Mårtensson",
    "Ali", "Mohammed", "Ahmed", "Hassan", "Ibrahim", "Omar", "Abdi", "Haddad", "Yousef", "Ahmadi", "Hosseini",
    "Yilmaz", "Kaya", "Demir", "Nguyen", "Tran", "Kowalski", "Nowak", "Begić", "Tesfaye", "Hadi",
)

# Deliberately awkward but valid names, one per kind, for the cases that exercise the robot's text handling.
ODD_NAMES: dict[str, tuple[str, str, str]] = {
    # kind: (female first name, male first name, last name)
    "hyphen": ("Anna-Karin", "Per-Olof", "Lindqvist-Öberg"),
    "swedish_letters": ("Åsa-Märta", "Örjan", "Ångström Ärlebäck"),
    "apostrophe": ("Siobhán", "Seán", "O'Connor"),
    "long": ("Ulrika Eleonora", "Carl Gustaf Adolf", "Silfverschiöld-Gyllenhammar af Ekenstierna-Åkerhielm"),
}

# Town-centre streets; each gets a fixed Trelleborg postcode (postcodes follow streets, not flats).
STREETS: tuple[tuple[str, str], ...] = (
    ("Storgatan", "231 31"), ("Algatan", "231 42"), ("Hamngatan", "231 41"), ("Västergatan", "231 64"),
    ("Östergatan", "231 51"), ("Bryggaregatan", "231 43"), ("Kyrkogatan", "231 44"), ("Villagatan", "231 55"),
    ("Dalabergsvägen", "231 66"), ("Södra Vallgatan", "231 62"), ("Norregatan", "231 32"),
    ("Järnvägsgatan", "231 45"), ("Valdemarsgatan", "231 53"), ("Nygatan", "231 56"), ("Liljegatan", "231 57"),
    ("Hedvägen", "231 67"), ("Östervångsvägen", "231 58"), ("Pilgrimsgatan", "231 46"),
    ("Solbergavägen", "231 69"), ("Fågelbergavägen", "231 71"), ("Skegrievägen", "231 72"),
    ("Kaptensgatan", "231 65"), ("Rådhusgatan", "231 33"), ("Bäckgatan", "231 47"),
)
TOWN = "Trelleborg"

# Where people move when they leave the household (a registration elsewhere).
OTHER_PLACES: tuple[tuple[str, str, str], ...] = (
    ("Amiralsgatan", "214 37", "Malmö"), ("Rosengårdsvägen", "213 68", "Malmö"), ("Bergsgatan", "214 22", "Malmö"),
    ("Stortorget", "274 31", "Skurup"), ("Vellinge Torg", "235 31", "Vellinge"), ("Stora Östergatan", "271 34",
    "Ystad"), ("Klostergatan", "222 22", "Lund"), ("Norra Vägen", "231 91", "Anderslöv"),
)

CASEWORKERS: tuple[str, ...] = ("Maria Lindholm", "Jonas Ekberg", "Fatima Haddad")


def format_address(street: str, number: int, flat: int | None, postcode: str, town: str) -> str:
    """`Storgatan 12 lgh 1102, 231 42 Trelleborg`: the lägenhetsnummer is how the register tells flats apart."""
    flat_part = f" lgh {flat}" if flat is not None else ""
    return f"{street} {number}{flat_part}, {postcode} {town}"
