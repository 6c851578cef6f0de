"""The words generated data is made of: song-title words, people's names, places and browsers, as
the real Million Song Dataset and eventsim logs hold them (some non-ASCII, so escapes are exercised)."""

from __future__ import annotations

WORDS = (
    "Love Night Heart Fire Rain Blue Dream Road Home Light Dance Gold River Star Moon Sun Time World Girl Boy "
    "Baby Soul Ghost Shadow Summer Winter Angel Devil Money Train Highway City Ocean Wind Storm Thunder Paradise "
    "Heaven Stone Rose Wild Sweet Broken Lonely Crazy Lost Young Golden Silver Electric Midnight Morning Sunday "
    "Freedom Memory Echo Mirror Window Door Street Party Kiss Tears Smile Promise Secret Ocean Mountain Desert "
    "Island Revolution Machine Radio Disco Funk Blues Jazz Rock Roll Boogie Groove Rhythm Song Melody Harmony "
    "Fever Sugar Honey Candy Cherry Whiskey Wine Coffee Cigarette Diamond Velvet Satin Steel Iron Glass Paper "
    "Tiger Wolf Eagle Horse Dog Snake Butterfly Lion Dragon Queen King Prince Soldier Sailor Cowboy Stranger "
    "Hero Fool Lover Sinner Saint Preacher Mama Papa Sister Brother Friend Enemy Everything Nothing Forever "
    "Tonight Tomorrow Yesterday Again Away Down Up Alone Together Inside Outside Beyond Under Over"
).split()
FUNCTION_WORDS = "The A My Your Our In On Of To For With Without Into After Before".split()
FOREIGN = (
    "Corazón Mañana Canción Niña Señor Café Été Amour Rêve Fenêtre Mädchen Straße Schön Über Björk Ångström "
    "Sjöberg Mélodie Noël Déjà Vu Pequeño Añoranza Garçon Ça São Coração Estação Ação Nação"
).split()
SUFFIXES = (
    "(Album Version)", "(Live)", "(Remastered)", "(Radio Edit)", "(Acoustic)", "(Demo)", "(Remix)",
    "(2005 Digital Remaster)", "(Extended Mix)", "[Live At The Fillmore]", "(LP Version)", "(Instrumental)",
)
FIRST_F = (
    "Lily Kate Jacqueline Chloe Tegan Kaylee Aleena Jayden Ava Emily Sophia Mia Olivia Layla Avery Harper "
    "Madison Zoe Brooklyn Natalie Hannah Addison Leah Lillian Samantha Stella Aubrey Ellie Claire Violet "
    "Savannah Anna Skylar Paisley Audrey Caroline Kennedy Autumn Piper Ruby Sadie Naomi Eva Isabella Maya "
    "Riley Molly Jessica Amanda Rebecca Sarah Ashley Megan Rachel Lauren Kayla Alexis Sydney Morgan Faith"
).split()
FIRST_M = (
    "Ryan Jacob Noah Liam Mason William Ethan Michael Alexander James Daniel Elijah Benjamin Logan Aiden "
    "Jackson David Joseph Samuel Henry Owen Sebastian Gabriel Carter Jayden John Luke Anthony Isaac Dylan "
    "Wyatt Andrew Joshua Christopher Grayson Jack Julian Lucas Nathan Aaron Isaiah Thomas Charles Caleb "
    "Josiah Christian Hunter Eli Jonathan Connor Landon Adrian Asher Cameron Leo Theodore Jeremiah Hudson"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
    "Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes"
).split()
#: (metropolitan area as the logs write it, latitude, longitude)
METROS = (
    ("New York-Newark-Jersey City, NY-NJ-PA", 40.71, -74.0),
    ("Los Angeles-Long Beach-Anaheim, CA", 34.05, -118.24),
    ("Chicago-Naperville-Elgin, IL-IN-WI", 41.88, -87.63),
    ("Dallas-Fort Worth-Arlington, TX", 32.78, -96.8),
    ("Houston-The Woodlands-Sugar Land, TX", 29.76, -95.37),
    ("Washington-Arlington-Alexandria, DC-VA-MD-WV", 38.9, -77.04),
    ("Miami-Fort Lauderdale-West Palm Beach, FL", 25.76, -80.19),
    ("Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", 39.95, -75.17),
    ("Atlanta-Sandy Springs-Roswell, GA", 33.75, -84.39),
    ("Boston-Cambridge-Newton, MA-NH", 42.36, -71.06),
    ("Phoenix-Mesa-Scottsdale, AZ", 33.45, -112.07),
    ("San Francisco-Oakland-Hayward, CA", 37.77, -122.42),
    ("Riverside-San Bernardino-Ontario, CA", 33.95, -117.4),
    ("Detroit-Warren-Dearborn, MI", 42.33, -83.05),
    ("Seattle-Tacoma-Bellevue, WA", 47.61, -122.33),
    ("Minneapolis-St. Paul-Bloomington, MN-WI", 44.98, -93.27),
    ("San Diego-Carlsbad, CA", 32.72, -117.16),
    ("Tampa-St. Petersburg-Clearwater, FL", 27.95, -82.46),
    ("Denver-Aurora-Lakewood, CO", 39.74, -104.99),
    ("St. Louis, MO-IL", 38.63, -90.2),
    ("Baltimore-Columbia-Towson, MD", 39.29, -76.61),
    ("Charlotte-Concord-Gastonia, NC-SC", 35.23, -80.84),
    ("Orlando-Kissimmee-Sanford, FL", 28.54, -81.38),
    ("San Antonio-New Braunfels, TX", 29.42, -98.49),
    ("Portland-Vancouver-Hillsboro, OR-WA", 45.52, -122.68),
    ("Sacramento--Roseville--Arden-Arcade, CA", 38.58, -121.49),
    ("Pittsburgh, PA", 40.44, -79.99),
    ("Las Vegas-Henderson-Paradise, NV", 36.17, -115.14),
    ("Austin-Round Rock, TX", 30.27, -97.74),
    ("Cincinnati, OH-KY-IN", 39.1, -84.51),
    ("Kansas City, MO-KS", 39.1, -94.58),
    ("Columbus, OH", 39.96, -83.0),
    ("Indianapolis-Carmel-Anderson, IN", 39.77, -86.16),
    ("Cleveland-Elyria, OH", 41.5, -81.69),
    ("San Jose-Sunnyvale-Santa Clara, CA", 37.34, -121.89),
    ("Nashville-Davidson--Murfreesboro--Franklin, TN", 36.16, -86.78),
    ("Virginia Beach-Norfolk-Newport News, VA-NC", 36.85, -75.98),
    ("Providence-Warwick, RI-MA", 41.82, -71.41),
    ("Milwaukee-Waukesha-West Allis, WI", 43.04, -87.91),
    ("Jacksonville, FL", 30.33, -81.66),
    ("Memphis, TN-MS-AR", 35.15, -90.05),
    ("Oklahoma City, OK", 35.47, -97.52),
    ("Louisville/Jefferson County, KY-IN", 38.25, -85.76),
    ("Richmond, VA", 37.54, -77.44),
    ("New Orleans-Metairie, LA", 29.95, -90.07),
    ("Raleigh, NC", 35.78, -78.64),
    ("Salt Lake City, UT", 40.76, -111.89),
    ("Birmingham-Hoover, AL", 33.52, -86.8),
    ("Buffalo-Cheektowaga-Niagara Falls, NY", 42.89, -78.88),
    ("Tucson, AZ", 32.22, -110.97),
    ("Tulsa, OK", 36.15, -95.99),
    ("Fresno, CA", 36.74, -119.79),
    ("Albany-Schenectady-Troy, NY", 42.65, -73.75),
    ("Omaha-Council Bluffs, NE-IA", 41.26, -95.94),
    ("Albuquerque, NM", 35.08, -106.65),
    ("Bakersfield, CA", 35.37, -119.02),
    ("Knoxville, TN", 35.96, -83.92),
    ("El Paso, TX", 31.76, -106.49),
    ("Lubbock, TX", 33.58, -101.86),
    ("Boise City, ID", 43.62, -116.2),
    ("Madison, WI", 43.07, -89.4),
    ("Anchorage, AK", 61.22, -149.9),
    ("Des Moines-West Des Moines, IA", 41.59, -93.62),
    ("Spokane-Spokane Valley, WA", 47.66, -117.43),
    ("Columbia, SC", 34.0, -81.03),
    ("Lansing-East Lansing, MI", 42.73, -84.56),
    ("Eugene, OR", 44.05, -123.09),
)
ARTIST_PLACES = (
    "London, England", "Los Angeles, CA", "New York, NY", "Chicago, IL", "Nashville, TN", "Austin, TX",
    "Seattle, WA", "Detroit, MI", "Atlanta, GA", "Memphis, TN", "Toronto, Ontario, Canada", "Manchester, England",
    "Berlin, Germany", "Paris, France", "Stockholm, Sweden", "Kingston, Jamaica", "California - SF",
    "California - LA", "Brooklyn, NY", "Minneapolis, MN", "Dublin, Ireland", "Glasgow, Scotland", "Ohio",
    "Texas", "Georgia", "United States", "UK", "Sweden", "Montreal, Quebec, Canada", "São Paulo, Brazil",
    "Reykjavík, Iceland", "Melbourne, Australia", "Bristol, England", "New Orleans, LA", "Philadelphia, PA",
)
#: (user agent, relative weight): browsers of the time, as eventsim writes them.
AGENTS = (
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/36.0.1985.143 Safari/537.36", 14),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 "
     "Safari/537.36", 12),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0", 9),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 "
     "Safari/537.78.2", 9),
    ("Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 "
     "Safari/537.36", 7),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 "
     "Safari/537.36", 4),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 "
     "Safari/537.36", 6),
    ("Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0", 4),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0", 4),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
     "Version/7.0 Mobile/11D257 Safari/9537.53", 5),
    ("Mozilla/5.0 (iPad; CPU OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 "
     "Mobile/11D257 Safari/9537.53", 3),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 "
     "Chrome/36.0.1985.125 Safari/537.36", 3),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", 3),
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)", 1),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:32.0) Gecko/20100101 Firefox/32.0", 2),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/37.0.2062.120 Safari/537.36", 2),
    ("Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36", 2),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_3) AppleWebKit/537.75.14 (KHTML, like Gecko) Version/7.0.3 "
     "Safari/537.75.14", 2),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:31.0) Gecko/20100101 Firefox/31.0", 1),
    ("Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)", 1),
)
