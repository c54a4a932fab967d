"""The site the kiosk serves (a préfecture's counter, a mairie): its details printed on receipts
and letters."""
